import { Command } from 'commander';
import { runCli } from './run-cli.js';
import * as evalCommand from './commands/eval.js';
import * as initCommand from './commands/init.js';
import * as trainCommand from './commands/train.js';
import * as sftCommand from './commands/sft.js';
import * as engineCommand from './commands/engine.js';
import * as vllmCommand from './commands/vllm.js';
import * as searchCommand from './commands/search.js';
import * as viewCommand from './commands/view.js';
import * as runsCommand from './commands/runs.js';
import * as reportCommand from './commands/report.js';
import * as setupCommand from './commands/setup.js';
import * as playCommand from './commands/play.js';

const program = new Command('keiko')
  .description('Train and evaluate LLM agents with reinforcement learning.')
  .version('0.1.0');

for (const command of [evalCommand, initCommand, trainCommand, sftCommand, engineCommand, vllmCommand, searchCommand, viewCommand, runsCommand, reportCommand, setupCommand, playCommand]) {
  command.register(program);
}

await runCli(program, process.argv);
