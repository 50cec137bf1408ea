import { Badge } from '../../components/ui';

/** Whether a task's script can run: missing, not executable, or ok. */
export function ScriptBadge(props: { status: { exists: boolean; executable: boolean; message: string | null } }) {
  const s = props.status;
  if (!s.exists)
    return (
      <Badge tone="bad" title={s.message ?? undefined}>
        missing
      </Badge>
    );
  if (!s.executable)
    return (
      <Badge tone="warn" title={s.message ?? undefined}>
        not executable
      </Badge>
    );
  return <Badge tone="good">ok</Badge>;
}
