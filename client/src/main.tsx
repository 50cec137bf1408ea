import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createApolloClient } from './api/apollo';
import { createTokenStore } from './api/auth';
import { ApiProvider } from './api/session';
import { createLiveStore } from './api/store';
import { App } from './App';
import './styles.css';

// One of each for the page's lifetime, created here and handed down (no singletons elsewhere).
const tokens = createTokenStore();
const client = createApolloClient({ tokens });
const store = createLiveStore();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ApiProvider client={client} tokens={tokens} store={store}>
      <App />
    </ApiProvider>
  </StrictMode>,
);
