import { runServer } from "./app/serve.js";

// `npm start` passes --dev: dev mode is asked for, never fallen into (KEYWARD_DEV=1 asks too).
await runServer(process.argv.slice(2).includes("--dev"));
