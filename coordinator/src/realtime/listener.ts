import pg from 'pg';
import type { ServicesConfig } from '@tileflow/shared';
import { CHANGE_CHANNEL, type ChangeNotice } from '../db/notify.js';
import type { Logger } from '../logger.js';
import { parseNotice } from './aggregator.js';

export interface NoticeListener {
  /** Connects and LISTENs; resolves once listening (or rejects if the first connection fails). */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * LISTENs on the change channel with a dedicated connection (a pooled one would be handed to other queries), and
 * reconnects with a growing delay (0.25 s to 5 s) when the connection drops. After a reconnect `onResync` runs:
 * notices sent while disconnected are lost, so the receiver refreshes what it shows.
 */
export function createNoticeListener(deps: {
  db: ServicesConfig['db'];
  logger: Logger;
  onNotice: (notice: ChangeNotice) => void;
  onResync: () => void;
}): NoticeListener {
  const { db, logger } = deps;
  let client: pg.Client | undefined;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let delay = 250;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({
      host: db.host,
      port: db.port,
      database: db.database,
      user: db.user,
      password: db.password,
      keepAlive: true,
      application_name: 'tileflow-realtime',
    });
    c.on('notification', (msg) => {
      if (msg.channel !== CHANGE_CHANNEL) return;
      const notice = parseNotice(msg.payload);
      if (notice) deps.onNotice(notice);
      else logger.warn({ payload: msg.payload?.slice(0, 200) }, 'ignored a malformed change notice');
    });
    const lost = (err?: Error) => {
      if (client !== c) return;
      client = undefined;
      c.removeAllListeners('end');
      void c.end().catch(() => undefined);
      if (closed) return;
      logger.warn({ err: err?.message, retryInMs: delay }, 'realtime: lost the LISTEN connection; reconnecting');
      scheduleReconnect();
    };
    c.on('error', lost);
    c.on('end', () => lost());
    await c.connect();
    await c.query(`LISTEN ${CHANGE_CHANNEL}`);
    if (closed) {
      await c.end();
      return;
    }
    client = c;
    delay = 250;
  };

  const scheduleReconnect = () => {
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect()
        .then(() => {
          if (!closed) {
            logger.info('realtime: LISTEN connection restored');
            deps.onResync();
          }
        })
        .catch((err: unknown) => {
          if (closed) return;
          delay = Math.min(delay * 2, 5000);
          logger.warn({ err: (err as Error).message, retryInMs: delay }, 'realtime: reconnect failed');
          scheduleReconnect();
        });
    }, delay);
  };

  return {
    start: connect,
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      const c = client;
      client = undefined;
      if (c) {
        c.removeAllListeners('end');
        await c.end().catch(() => undefined);
      }
    },
  };
}
