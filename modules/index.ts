export { command, type CommandLine, type CommandParams } from './command.ts';
export { file, type FileParams } from './file/index.ts';
