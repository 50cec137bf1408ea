import { useEffect } from 'react';
import { useQuery } from '@apollo/client/react';
import { MeDocument } from './api/generated';
import { useLive, useSession } from './api/session';
import { Link, matchPath, navigate, useLocation } from './router';
import { ChartsPage } from './pages/charts/ChartsPage';
import { DashboardPage } from './pages/dashboard/DashboardPage';
import { PipelinePage } from './pages/pipeline/PipelinePage';
import { ProjectEditPage } from './pages/projects/ProjectEditPage';
import { ProjectsPage } from './pages/projects/ProjectsPage';
import { SignInPage } from './pages/signin/SignInPage';
import { StageDetailPage } from './pages/stage/StageDetailPage';
import { TasksPage } from './pages/tasks/TasksPage';
import { TileMapPage } from './pages/tilemap/TileMapPage';
import { WorkersPage } from './pages/workers/WorkersPage';

function Routes({ pathname }: { pathname: string }) {
  let m: Record<string, string> | null;
  if (pathname === '/' || pathname === '/dashboard') return <DashboardPage />;
  if (pathname === '/projects') return <ProjectsPage />;
  if (pathname === '/projects/new') return <ProjectEditPage projectId={null} />;
  if ((m = matchPath('/projects/:id', pathname))) return <PipelinePage projectId={m.id} />;
  if ((m = matchPath('/projects/:id/pipeline', pathname))) return <PipelinePage projectId={m.id} />;
  if ((m = matchPath('/projects/:id/map', pathname))) return <TileMapPage projectId={m.id} />;
  if ((m = matchPath('/projects/:id/charts', pathname))) return <ChartsPage projectId={m.id} />;
  if ((m = matchPath('/projects/:id/settings', pathname))) return <ProjectEditPage key={m.id} projectId={m.id} />;
  if ((m = matchPath('/stages/:id', pathname))) return <StageDetailPage stageId={m.id} />;
  if (pathname === '/tasks') return <TasksPage />;
  if (pathname === '/workers') return <WorkersPage />;
  return (
    <div className="page">
      <h1>Not found</h1>
      <p>
        Nothing lives at <code>{pathname}</code>. <Link to="/">Go to the dashboard</Link>.
      </p>
    </div>
  );
}

const NAV = [
  { to: '/', label: 'Dashboard', match: (p: string) => p === '/' || p === '/dashboard' },
  { to: '/projects', label: 'Projects', match: (p: string) => p.startsWith('/projects') || p.startsWith('/stages') },
  { to: '/tasks', label: 'Tasks', match: (p: string) => p.startsWith('/tasks') },
  { to: '/workers', label: 'Workers', match: (p: string) => p.startsWith('/workers') },
];

function Shell({ pathname }: { pathname: string }) {
  const session = useSession();
  const connected = useLive((s) => s.connected);
  const me = useQuery(MeDocument, { fetchPolicy: 'cache-first' });
  useEffect(() => {
    // A token the API no longer knows: sign in again.
    if (me.data && me.data.me === null) session.signOut();
  }, [me.data, session]);

  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Main">
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden>
            <i />
            <i />
            <i />
            <i />
          </span>
          Tileflow
        </Link>
        <ul>
          {NAV.map((n) => (
            <li key={n.to}>
              <Link
                to={n.to}
                className={n.match(pathname) ? 'active' : undefined}
                aria-current={n.match(pathname) ? 'page' : undefined}
              >
                {n.label}
              </Link>
            </li>
          ))}
        </ul>
        <div className="sidebar-foot">
          <span
            className={`conn ${connected ? 'conn-on' : 'conn-off'}`}
            data-testid="connection"
            data-connected={connected}
          >
            {connected ? 'Live' : 'Reconnecting…'}
          </span>
          {me.data?.me && (
            <span className="whoami" title={`Role: ${me.data.me.role.toLowerCase()}`}>
              {me.data.me.username}
            </span>
          )}
          <button type="button" className="btn btn-plain btn-small" onClick={() => session.signOut()}>
            Sign out
          </button>
        </div>
      </nav>
      <main className="content">
        <Routes pathname={pathname} />
      </main>
    </div>
  );
}

export function App() {
  const { token } = useSession();
  const { pathname, search } = useLocation();
  useEffect(() => {
    if (token && pathname === '/signin') navigate(search.get('next') ?? '/', { replace: true });
    if (!token && pathname !== '/signin') {
      const next = pathname === '/' ? '' : `?next=${encodeURIComponent(pathname + window.location.search)}`;
      navigate(`/signin${next}`, { replace: true });
    }
  }, [token, pathname, search]);
  if (!token) return <SignInPage />;
  return <Shell pathname={pathname} />;
}
