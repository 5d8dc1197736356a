// Shared by the dashboard and alarm template tests: packages a stage the way
// test/infra/aws/template.test.ts does (`npm run package`, osls + serverless-esbuild, offline, no
// AWS credentials), and checks that a metric a widget or an alarm names is one the code emits
// (lib/telemetry/catalogue.ts: the stage's own namespace, Signet/<stage>, and the same name,
// `service` and dimensions) or an AWS service metric of a resource of the same stack.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { load as parseYaml } from 'js-yaml';
import { type Config, parseConfig } from '../../../lib/config/index.ts';
import {
  type DimensionBound,
  METRICS,
  type MetricSpec,
  metricsNamespace,
  UNSTAGED_METRICS_NAMESPACE,
} from '../../../lib/telemetry/catalogue.ts';

const run = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, '..', '..', '..');

export interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly Condition?: string;
}
export interface Template {
  readonly Resources: Record<string, Resource>;
  readonly Outputs: Record<string, { Value: unknown }>;
}
export interface PackagedStage {
  readonly name: string;
  readonly template: Template;
  readonly config: Config;
  readonly dir: string;
}

const serviceDirs: string[] = [];

/** Removes the service directories (and packages) {@link packageStage} made. */
export function removePackagedStages(): void {
  for (const dir of serviceDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** What packaging reads from the service directory: copied (osls wants its config file real), or linked. */
const SERVICE_FILES = ['serverless.yml', 'package.json'];
const SERVICE_LINKS = ['tsconfig.json', 'node_modules', 'functions', 'lib', 'infra', 'test'];

/**
 * Packages `stage` into a fresh temporary directory, with `configFile` as its Signet config (the
 * stage's own file when omitted). It runs in a service directory of its own (links to the
 * repository's files): serverless-esbuild builds in `.esbuild/` and osls writes `.serverless/` of
 * the service directory, so packagings run at the same time from one directory (this file's and
 * test/infra/aws/template.test.ts's, in parallel test workers) would clear each other's builds.
 */
export async function packageStage(stage: string, configFile?: string): Promise<PackagedStage> {
  const service = mkdtempSync(join(tmpdir(), `signet-service-${stage}-`));
  serviceDirs.push(service);
  for (const file of SERVICE_FILES) copyFileSync(join(ROOT, file), join(service, file));
  for (const entry of SERVICE_LINKS) symlinkSync(join(ROOT, entry), join(service, entry));
  const dir = join(service, 'package');
  const file = configFile ?? `infra/aws/config/${stage}.yml`;
  // No credentials of the developer's own: packaging must not need any.
  const { AWS_PROFILE: _profile, AWS_SESSION_TOKEN: _token, ...inherited } = process.env;
  await run(
    'npm',
    [
      'run',
      'package',
      '--',
      '--package',
      dir,
      ...(configFile === undefined ? [] : [`--param=config=${configFile}`]),
    ],
    { cwd: service, env: { ...inherited, CI: 'true', SIGNET_STAGE: stage }, maxBuffer: 16 * 1024 * 1024 },
  );
  const template = JSON.parse(
    readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
  const config = parseConfig(parseYaml(readFileSync(join(ROOT, file), 'utf8')), stage);
  return { name: stage, template, config, dir };
}

/** The AWS service metrics a widget or alarm may name, by namespace: the metric names and the resource each dimension names. */
const AWS_METRICS: Record<string, { names: readonly string[]; dimension: string; resourceType: string }> = {
  'AWS/Lambda': {
    names: ['Duration', 'Errors', 'Throttles', 'Invocations', 'ConcurrentExecutions'],
    dimension: 'FunctionName',
    resourceType: 'AWS::Lambda::Function',
  },
  'AWS/ApiGateway': {
    names: ['Count', '4xx', '5xx', 'Latency', 'IntegrationLatency'],
    dimension: 'ApiId',
    resourceType: 'AWS::ApiGatewayV2::Api',
  },
};

/**
 * The namespace the stage's functions send their metrics to: SIGNET_METRICS_NAMESPACE of both
 * functions of the packaged template (they must agree).
 */
export function sentNamespaceOf(stage: PackagedStage): string {
  const sent = ['ApiLambdaFunction', 'RotatorLambdaFunction'].map((id) => {
    const environment = stage.template.Resources[id]?.Properties.Environment as
      | { Variables?: Record<string, unknown> }
      | undefined;
    return environment?.Variables?.SIGNET_METRICS_NAMESPACE;
  });
  if (typeof sent[0] !== 'string' || sent[1] !== sent[0])
    throw new Error(
      `Expected both functions of the ${stage.name} stage to send to one SIGNET_METRICS_NAMESPACE; got ${JSON.stringify(sent)}.`,
    );
  return sent[0];
}

/** A dimension value as a template gives it: a string, or `{ Ref }` to a resource of the stack. */
export type DimensionValue = string | { readonly Ref: string };

/** One metric as a widget or an alarm names it. */
export interface NamedMetric {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, DimensionValue>>;
}

/**
 * Why `metric` is not one the code emits nor an AWS service metric of the stack, or undefined when it
 * is. Signet metrics: the stage's namespace (`Signet/<stage>`, never another stage's nor the
 * unstaged `Signet`), a catalogue name, exactly `service` plus the
 * catalogue's dimensions, the right service, an enum dimension's value among its values, a profile
 * dimension naming a profile of the config.
 */
export function problemWith(metric: NamedMetric, stage: PackagedStage): string | undefined {
  const where = `${metric.namespace}/${metric.name} ${JSON.stringify(metric.dimensions)}`;
  // The stage's own namespace, which is also where its functions send (checked here, not assumed).
  const namespace = metricsNamespace(stage.name);
  const sent = sentNamespaceOf(stage);
  if (sent !== namespace)
    return `${where}: the ${stage.name} stage's functions send to ${sent}, expected ${namespace}`;
  if (
    metric.namespace === UNSTAGED_METRICS_NAMESPACE ||
    metric.namespace.startsWith(`${UNSTAGED_METRICS_NAMESPACE}/`)
  ) {
    if (metric.namespace !== namespace)
      return `${where}: expected the ${stage.name} stage's namespace ${namespace}, where its functions send (SIGNET_METRICS_NAMESPACE)`;
    const spec = (METRICS as Readonly<Record<string, MetricSpec>>)[metric.name];
    if (spec === undefined) return `${where}: not a metric of lib/telemetry/catalogue.ts`;
    const expected = ['service', ...Object.keys(spec.dimensions)].sort();
    const got = Object.keys(metric.dimensions).sort();
    if (JSON.stringify(expected) !== JSON.stringify(got))
      return `${where}: expected the dimensions ${expected.join(', ')}, got ${got.join(', ')}`;
    if (metric.dimensions.service !== spec.service) return `${where}: expected service ${spec.service}`;
    for (const [dimension, bound] of Object.entries(spec.dimensions) as [string, DimensionBound][]) {
      const value = metric.dimensions[dimension];
      if (typeof value !== 'string') return `${where}: expected ${dimension} to be a literal value`;
      if (bound.kind === 'enum' && !bound.values.includes(value))
        return `${where}: ${dimension} ${value} is not one of ${bound.values.join(', ')}`;
      if (bound.kind === 'profile' && stage.config.profiles[value] === undefined)
        return `${where}: ${value} is not a profile of the ${stage.name} config`;
    }
    return undefined;
  }
  const aws = AWS_METRICS[metric.namespace];
  if (aws === undefined) return `${where}: neither Signet's namespace nor an AWS service metric of the stack`;
  if (!aws.names.includes(metric.name)) return `${where}: expected one of ${aws.names.join(', ')}`;
  const keys = Object.keys(metric.dimensions);
  if (keys.length !== 1 || keys[0] !== aws.dimension)
    return `${where}: expected exactly the dimension ${aws.dimension}`;
  const value = metric.dimensions[aws.dimension];
  const id = typeof value === 'object' ? value.Ref : undefined;
  const target = id === undefined ? undefined : stage.template.Resources[id];
  if (target?.Type !== aws.resourceType)
    return `${where}: expected ${aws.dimension} to be a Ref to a ${aws.resourceType} of the stack`;
  return undefined;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
export function slugOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The sections of docs/operators.md by anchor: heading and text up to the next heading of the same or a higher level. */
export function operatorsGuideSections(): Map<string, { heading: string; level: number; text: string }> {
  const lines = readFileSync(join(ROOT, 'docs/operators.md'), 'utf8').split('\n');
  const sections = new Map<string, { heading: string; level: number; text: string }>();
  let inFence = false;
  const headings: { index: number; level: number; heading: string }[] = [];
  for (const [index, line] of lines.entries()) {
    if (line.startsWith('```')) inFence = !inFence;
    const match = inFence ? null : /^(#{1,6})\s+(.*)$/.exec(line);
    if (match !== null) headings.push({ index, level: match[1]!.length, heading: match[2]! });
  }
  for (const [i, h] of headings.entries()) {
    const end = headings.slice(i + 1).find((next) => next.level <= h.level)?.index ?? lines.length;
    sections.set(slugOf(h.heading), {
      heading: h.heading,
      level: h.level,
      text: lines.slice(h.index + 1, end).join('\n'),
    });
  }
  return sections;
}
