// The reference graphql-ws client completes a subscription against a running service:
//   node subscribe.mjs ws://127.0.0.1:8000/graphql <accessToken> <registrationId>
// Prints the kinds received as JSON; exit 0 when the subscription completed normally.
// It is told not to retry 4401/4403 (by default it retries every 4xxx close but a few).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token, registrationId, wanted] = process.argv.slice(2);
const closes = [];
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
  retryAttempts: 3,
  shouldRetry: (event) => !(event && [4401, 4403].includes(event.code)),
  on: { closed: (event) => closes.push({ code: event.code, reason: event.reason }) },
});

const kinds = [];
const query = `subscription($id: ID!) { registrationEvents(registrationId: $id) { cursor kind } }`;
let failure = null;
try {
  for await (const result of client.iterate({ query, variables: { id: registrationId } })) {
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    kinds.push(result.data.registrationEvents.kind);
    if (kinds.length >= Number(wanted || 1)) break; // completes the subscription (sends complete)
  }
} catch (error) {
  failure = error && error.code ? { code: error.code, reason: error.reason } : String(error);
}
await client.dispose();
console.log(JSON.stringify({ kinds, failure, closes }));
process.exit(failure ? 1 : 0);
