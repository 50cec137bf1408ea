import { useState, type FormEvent } from 'react';
import { useMutation } from '@apollo/client/react';
import { SignInDocument } from '../../api/generated';
import { useSession } from '../../api/session';
import { Field, FormErrors, errorMessage, type FieldErrorList } from '../../components/forms';

export function SignInPage() {
  const session = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<FieldErrorList | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [signIn, { loading }] = useMutation(SignInDocument);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(null);
    setErrors(null);
    try {
      const { data } = await signIn({ variables: { username, password } });
      const r = data?.signIn;
      if (r?.token) session.signIn(r.token);
      else setErrors(r?.errors.length ? r.errors : [{ field: '', message: 'Sign-in failed' }]);
    } catch (err) {
      setFailure(errorMessage(err));
    }
  };

  return (
    <div className="signin">
      <form className="signin-card" onSubmit={submit} aria-label="Sign in">
        <div className="signin-brand">
          <span className="brand-mark" aria-hidden>
            <i />
            <i />
            <i />
            <i />
          </span>
          <div>
            <h1>Tileflow</h1>
            <p className="muted">Per-tile processing pipelines</p>
          </div>
        </div>
        <Field label="User name" field="username" errors={errors}>
          <input
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            autoFocus
            required
          />
        </Field>
        <Field label="Password" field="password" errors={errors}>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </Field>
        <FormErrors errors={errors} shown={['username', 'password']} />
        {failure && (
          <p className="action-error" role="alert">
            {failure}
          </p>
        )}
        <button type="submit" className="btn btn-primary btn-block" disabled={loading}>
          {loading ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
