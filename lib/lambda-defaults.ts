import { join, relative, resolve } from 'node:path';
import type { Duration, Size } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { functionNodeOptions } from './node-options';

/** The repository root: esbuild's project root and where the lock file lives. */
export const REPO_ROOT = resolve(import.meta.dirname, '..');

/** Directory of the handler modules, each exporting `handler`. */
export const HANDLERS_DIR = join(REPO_ROOT, 'lambdas', 'handlers');

/**
 * Construct metadata type that records a function's handler module (its entry, relative to the
 * repository root), so that the local engine can run every function a state machine invokes.
 */
export const HANDLER_MODULE_METADATA = 'pce-export:handler-module';

type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Where a function runs in a VPC: the subnets and the security groups of its network interfaces. */
export interface FunctionPlacement {
  readonly vpc: IVpc;
  readonly subnets: SubnetSelection;
  readonly securityGroups: readonly ISecurityGroup[];
}

/**
 * What Lambda does with a function's role to place it in a VPC: create, describe and delete its
 * network interfaces and their addresses (the actions of the AWS-managed
 * AWSLambdaVPCAccessExecutionRole, written out). The describe actions take no resource, and the
 * interfaces Lambda creates have no id before it does.
 */
const VPC_ACCESS_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

export interface ExportFunctionProps {
  /** Absolute path of the handler module. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** Retention of the function's log group. */
  readonly logRetention: RetentionDays;
  /**
   * Extra environment variables, merged over the defaults.
   * @default - only the defaults (source maps, Powertools service name and log level)
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Powertools log level.
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
  /**
   * Size of /tmp.
   * @default 512 MiB, Lambda's default
   */
  readonly ephemeralStorageSize?: Size;
  /**
   * Runs the function in these subnets of a VPC, with these security groups.
   * @default - not in a VPC: Lambda's own network, with internet access
   */
  readonly placement?: FunctionPlacement;
}

/** A function together with the log group it writes to. */
export interface ExportFunction {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;
}

/**
 * Creates a Lambda function with the project's defaults: Node.js 24 on arm64, X-Ray tracing,
 * its own log group with a retention, source maps, and the AWS SDK bundled (pinned by the lock
 * file rather than whatever the runtime ships).
 *
 * Each function gets its own role that may write to its own log group only, instead of the
 * managed AWSLambdaBasicExecutionRole, which allows writing to every log group in the account;
 * a function placed in a VPC also gets the network interface actions Lambda needs for it.
 */
export function createExportFunction(
  scope: Construct,
  id: string,
  props: ExportFunctionProps,
): ExportFunction {
  const logGroup = new LogGroup(scope, `${id}LogGroup`, { retention: props.logRetention });
  const role = new Role(scope, `${id}Role`, {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: `Execution role of ${props.description}`,
  });
  logGroup.grantWrite(role);
  if (props.placement) {
    role.addToPolicy(new PolicyStatement({ actions: VPC_ACCESS_ACTIONS, resources: ['*'] }));
  }

  const fn = new NodejsFunction(scope, id, {
    entry: props.entry,
    handler: 'handler',
    description: props.description,
    runtime: Runtime.NODEJS_24_X,
    architecture: Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    ...(props.ephemeralStorageSize === undefined ? {} : { ephemeralStorageSize: props.ephemeralStorageSize }),
    role,
    logGroup,
    tracing: Tracing.ACTIVE,
    ...(props.placement
      ? {
          vpc: props.placement.vpc,
          vpcSubnets: props.placement.subnets,
          securityGroups: [...props.placement.securityGroups],
        }
      : {}),
    projectRoot: REPO_ROOT,
    depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
    bundling: {
      minify: true,
      sourceMap: true,
      target: 'node24',
      format: OutputFormat.CJS,
      // Prefer the ES module builds so the AWS SDK tree-shakes in a CJS bundle.
      mainFields: ['module', 'main'],
      // Bundle the AWS SDK too: the versions in package-lock.json are the ones tested.
      externalModules: [],
    },
    environment: {
      NODE_OPTIONS: functionNodeOptions(props.memorySize),
      POWERTOOLS_SERVICE_NAME: 'pce-export',
      POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
      ...props.environment,
    },
  });
  fn.node.addMetadata(HANDLER_MODULE_METADATA, relative(REPO_ROOT, props.entry));
  return { function: fn, logGroup };
}
