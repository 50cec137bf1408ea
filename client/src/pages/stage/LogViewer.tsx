import { useCallback, useEffect, useRef, useState } from 'react';
import { useApolloClient } from '@apollo/client/react';
import { ExecutionLogDocument, type LogStream } from '../../api/generated';
import { errorMessage } from '../../components/forms';
import { formatBytes } from '../../components/format';

/** Bytes shown when opening a log: its tail. */
const TAIL_BYTES = 16 * 1024;
/** Most text kept on screen; older text is dropped from the top. */
const MAX_CHARS = 512 * 1024;
/** How often a followed log asks for new bytes (ms). */
const FOLLOW_MS = 1000;

/**
 * A task log: opens on its tail, then follows it by asking for the bytes after `nextOffset` while the execution
 * runs (or while "follow" is on). Streams: stdout and stderr.
 */
export function LogViewer(props: {
  executionId: string;
  running: boolean;
  paths: { stdout: string | null; stderr: string | null };
}) {
  const client = useApolloClient();
  const [stream, setStream] = useState<LogStream>('STDOUT');
  const [text, setText] = useState('');
  const [size, setSize] = useState<number | null>(null);
  const [offset, setOffset] = useState<{ start: number; next: number } | null>(null);
  const [follow, setFollow] = useState(props.running);
  const [error, setError] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  const pre = useRef<HTMLPreElement>(null);
  const nextOffset = useRef<number | null>(null);

  const load = useCallback(
    async (mode: 'tail' | 'start' | 'more') => {
      try {
        const variables =
          mode === 'tail'
            ? { id: props.executionId, stream, tailBytes: TAIL_BYTES }
            : { id: props.executionId, stream, offset: mode === 'start' ? 0 : (nextOffset.current ?? 0) };
        const { data } = await client.query({ query: ExecutionLogDocument, variables, fetchPolicy: 'no-cache' });
        const chunk = data?.executionLog;
        setError(null);
        if (!chunk) {
          setMissing(true);
          return;
        }
        setMissing(false);
        setSize(chunk.size);
        nextOffset.current = chunk.nextOffset;
        if (mode === 'more') {
          if (chunk.text) setText((t) => (t + chunk.text).slice(-MAX_CHARS));
          setOffset((o) => ({ start: o?.start ?? chunk.offset, next: chunk.nextOffset }));
        } else {
          setText(chunk.text.slice(-MAX_CHARS));
          setOffset({ start: chunk.offset, next: chunk.nextOffset });
        }
      } catch (e) {
        setError(errorMessage(e));
      }
    },
    [client, props.executionId, stream],
  );

  useEffect(() => {
    nextOffset.current = null;
    setText('');
    void load('tail');
  }, [load]);

  useEffect(() => {
    if (!follow) return;
    const t = setInterval(() => void load('more'), FOLLOW_MS);
    return () => clearInterval(t);
  }, [follow, load]);

  // Keep the newest lines in view while following.
  useEffect(() => {
    if (follow && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [text, follow]);

  const path = stream === 'STDOUT' ? props.paths.stdout : props.paths.stderr;
  return (
    <div className="log-viewer" data-testid="log-viewer">
      <div className="log-toolbar">
        <div className="segmented" role="tablist" aria-label="Log stream">
          {(['STDOUT', 'STDERR'] as const).map((s) => (
            <button
              key={s}
              type="button"
              role="tab"
              aria-selected={stream === s}
              className={stream === s ? 'seg-active' : ''}
              onClick={() => setStream(s)}
            >
              {s.toLowerCase()}
            </button>
          ))}
        </div>
        <label className="check small">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
        <button type="button" className="btn btn-small" onClick={() => void load('tail')}>
          Tail
        </button>
        <button
          type="button"
          className="btn btn-small"
          disabled={offset?.start === 0}
          onClick={() => void load('start')}
        >
          From start
        </button>
        <span className="muted small ellipsis" title={path ?? undefined}>
          {size !== null ? formatBytes(size) : ''}{' '}
          {offset && offset.start > 0 ? `· showing from byte ${offset.start.toLocaleString()}` : ''}
        </span>
      </div>
      {error && (
        <p className="action-error" role="alert">
          {error}
        </p>
      )}
      <pre ref={pre} className="log" data-stream={stream.toLowerCase()} aria-label={`${stream.toLowerCase()} log`}>
        {missing ? 'No log file (yet).' : text || 'Empty.'}
      </pre>
    </div>
  );
}
