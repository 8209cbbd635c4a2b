export { DeadLetterStore, type DeadLetter, type DeadLetterFilter, type DeadLetterInput } from './dead-letter-store.js';
export { viewDeadLetter, type DeadLetterPage, type DeadLetterView } from './dead-letter-view.js';
export { deadLetterRoutes } from './routes.js';
export { registerDlqCommands, type DlqCommandIo } from './cli.js';
