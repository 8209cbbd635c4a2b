export { startHostProcess, tbiBin, type HostProcess, type HostProcessOptions } from './host-process.js';
