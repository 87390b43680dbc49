import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The `Resource::...` finding cdk-nag reports for a wildcard resource, computed from the same
 * ARN expression the grant used, so an acknowledgement (`AwsSolutions-IAM5[<finding>]`) names
 * exactly that resource:
 * `{"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/pce/*"]]}` → `Resource::<Bucket.Arn>/pce/*`.
 */
export function nagResourceFinding(scope: IConstruct, arn: string): string {
  return `Resource::${flatten(Stack.of(scope).resolve(arn))}`;
}

function flatten(node: unknown): string {
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (node === null || typeof node !== 'object') return JSON.stringify(node);
  const intrinsic = node as Record<string, unknown>;
  const join = intrinsic['Fn::Join'];
  if (Array.isArray(join)) {
    const [delimiter, parts] = join as [string, unknown[]];
    return parts.map(flatten).join(delimiter);
  }
  if ('Fn::Sub' in intrinsic) return flatten(intrinsic['Fn::Sub']);
  const getAtt = intrinsic['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return `<${flatten(getAtt[0])}.${flatten(getAtt[1])}>`;
  if ('Ref' in intrinsic) return `<${flatten(intrinsic.Ref)}>`;
  return JSON.stringify(node);
}
