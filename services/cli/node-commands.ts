// dsctl taint, label, cordon, uncordon: node administration with kubectl's arguments and texts.
// Admins own their own slice of a node's labels and taints (source admin); the agent's slice
// (NODE_LABELS, measured pressure conditions) is not theirs to change.

import type { Command } from 'commander';
import { withBus } from './context.js';
import { setUnschedulable } from './node/cordon.js';
import { labelNodes, parseLabelCommand } from './node/label.js';
import type { NodeCommandOutcome } from './node/outcome.js';
import { parseTaintCommand, taintNodes } from './node/taint.js';

function print(outcome: NodeCommandOutcome): void {
  for (const line of outcome.stdout) process.stdout.write(`${line}\n`);
  for (const line of outcome.stderr) process.stderr.write(`${line}\n`);
  if (outcome.exitCode !== 0) process.exitCode = outcome.exitCode;
}

/** `NAME` or `node/NAME`. */
function bareNodeName(arg: string): string {
  return arg.replace(/^(nodes?|no)\//i, '');
}

export function registerNodeCommands(program: Command): void {
  program
    .command('taint')
    .description('Update the taints on nodes (kubectl taint): KEY[=VALUE]:EFFECT adds, KEY[:EFFECT]- removes')
    .usage('nodes NAME... KEY_1=VAL_1:TAINT_EFFECT_1 ... KEY_N=VAL_N:TAINT_EFFECT_N [--overwrite]')
    .argument('<args...>', 'nodes NAME... then the taint changes')
    .option('--overwrite', 'replace a taint with the same key and effect', false)
    .action(async (args: string[], flags: { overwrite: boolean }) => {
      const req = parseTaintCommand(args);
      print(await withBus(program, (nc) => taintNodes(nc, req, flags.overwrite)));
    });

  program
    .command('label')
    .description('Update the labels on nodes (kubectl label): KEY=VALUE sets, KEY- removes')
    .usage('nodes NAME... KEY_1=VAL_1 ... KEY_N=VAL_N [--overwrite]')
    .argument('<args...>', 'nodes NAME... then the label changes')
    .option('--overwrite', 'replace a label that already has another value', false)
    .action(async (args: string[], flags: { overwrite: boolean }) => {
      const req = parseLabelCommand(args);
      print(await withBus(program, (nc) => labelNodes(nc, req, flags.overwrite)));
    });

  for (const [verb, unschedulable] of [['cordon', true], ['uncordon', false]] as const) {
    program
      .command(verb)
      .description(unschedulable ? 'Mark nodes as unschedulable (daemon pods tolerate it and stay)' : 'Mark nodes as schedulable')
      .argument('<node...>', 'node names')
      .action(async (nodes: string[]) => {
        print(await withBus(program, (nc) => setUnschedulable(nc, nodes.map(bareNodeName), unschedulable)));
      });
  }
}
