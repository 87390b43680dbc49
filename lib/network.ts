import { Annotations } from 'aws-cdk-lib';
import {
  GatewayVpcEndpoint,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpoint,
  InterfaceVpcEndpointAwsService,
  type ISecurityGroup,
  type IVpc,
  Peer,
  Port,
  SecurityGroup,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { FunctionPlacement } from './lambda-defaults';
import { type EndpointService, endpointServices, type NetworkConfig } from './network-config';

/*
 * The functions that talk to the PCE, placed in the configured subnets. The VPC is imported from
 * its attributes (no lookup, so `cdk synth` needs no AWS credentials), each PCE's functions get a
 * security group of their own unless the configuration names groups, and the VPC endpoints a
 * network asks for are created once per VPC.
 */

/** The ports a PCE's functions connect to. */
export interface PcePorts {
  /** The PCE's own port (8443 on-prem, 443 SaaS). */
  readonly pce: number;
  /** The proxy's port, when PCE traffic goes through one. */
  readonly proxy?: number;
}

const INTERFACE_SERVICES: Readonly<Record<Exclude<EndpointService, 's3'>, InterfaceVpcEndpointAwsService>> = {
  secretsmanager: InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  events: InterfaceVpcEndpointAwsService.EVENTBRIDGE,
  logs: InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  xray: InterfaceVpcEndpointAwsService.XRAY,
  states: InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
};

/** The endpoints of one VPC, shared by every placement in it. */
interface VpcEndpoints {
  /** The construct-id prefix of its endpoints: empty for the first VPC, its id for the others. */
  readonly prefix: string;
  readonly created: Set<EndpointService>;
  /** Allows HTTPS in from the functions, for the interface endpoints. */
  securityGroup?: SecurityGroup;
  /** The function security groups the interface endpoints admit. */
  readonly clients: ISecurityGroup[];
}

/** The networks of a stack's PCEs: one per stack, asked for one placement per PCE. */
export class PceNetworks extends Construct {
  private readonly vpcs = new Map<string, IVpc>();
  private readonly endpointsByVpc = new Map<string, VpcEndpoints>();
  /** The security group each placement created, by its id (for tests and callers). */
  public readonly securityGroups: Record<string, SecurityGroup> = {};

  /**
   * Where the functions of one PCE run: the configured subnets, with the configured security
   * groups or one created for them (`id` names it) whose egress reaches the PCE's port, the
   * proxy's port and HTTPS, nothing else. Creates the endpoints `network` asks for that its VPC
   * does not have yet.
   */
  placement(id: string, network: NetworkConfig, ports: PcePorts): FunctionPlacement {
    const vpc = this.vpcFor(network);
    const securityGroups: ISecurityGroup[] = network.securityGroupIds?.map((groupId, index) =>
      SecurityGroup.fromSecurityGroupId(this, `${id}Group${index}`, groupId, { mutable: false }),
    ) ?? [this.createSecurityGroup(id, vpc, ports)];
    const services = endpointServices(network);
    const endpoints = this.endpointsOf(network.vpcId);
    endpoints.clients.push(...securityGroups);
    for (const group of securityGroups) this.admit(endpoints, group);
    for (const service of services) this.endpoint(endpoints, vpc, service);
    return { vpc, subnets: { subnets: vpc.privateSubnets }, securityGroups };
  }

  private createSecurityGroup(id: string, vpc: IVpc, ports: PcePorts): SecurityGroup {
    const group = new SecurityGroup(this, `${id}SecurityGroup`, {
      vpc,
      description: `pce-export ${id}: the functions that talk to the PCE (egress to the PCE, the proxy and HTTPS only)`,
      allowAllOutbound: false,
    });
    const rules = new Map<number, string>([
      [443, 'HTTPS: AWS APIs (or their VPC endpoints) and the PCE on 443'],
    ]);
    if (!rules.has(ports.pce)) rules.set(ports.pce, 'the PCE');
    if (ports.proxy !== undefined && !rules.has(ports.proxy))
      rules.set(ports.proxy, 'the HTTP proxy for PCE traffic');
    for (const [port, what] of rules) group.addEgressRule(Peer.anyIpv4(), Port.tcp(port), `to ${what}`);
    this.securityGroups[id] = group;
    return group;
  }

  private vpcFor(network: NetworkConfig): IVpc {
    const key = JSON.stringify([
      network.vpcId,
      network.availabilityZones,
      network.subnetIds,
      network.routeTableIds,
    ]);
    const existing = this.vpcs.get(key);
    if (existing) return existing;
    const vpc = Vpc.fromVpcAttributes(this, `Vpc${this.vpcs.size || ''}`, {
      vpcId: network.vpcId,
      availabilityZones: network.availabilityZones,
      privateSubnetIds: network.subnetIds,
      ...(network.routeTableIds ? { privateSubnetRouteTableIds: network.routeTableIds } : {}),
    });
    if (!network.routeTableIds) {
      for (const subnet of vpc.privateSubnets) {
        Annotations.of(subnet).acknowledgeWarning(
          '@aws-cdk/aws-ec2:noSubnetRouteTableId',
          'Route tables are only needed for the S3 gateway endpoint, which this network does not ask for.',
        );
      }
    }
    this.vpcs.set(key, vpc);
    return vpc;
  }

  private endpointsOf(vpcId: string): VpcEndpoints {
    let endpoints = this.endpointsByVpc.get(vpcId);
    if (!endpoints) {
      endpoints = { prefix: this.endpointsByVpc.size === 0 ? '' : vpcId, created: new Set(), clients: [] };
      this.endpointsByVpc.set(vpcId, endpoints);
    }
    return endpoints;
  }

  private admit(endpoints: VpcEndpoints, client: ISecurityGroup): void {
    endpoints.securityGroup?.addIngressRule(client, Port.tcp(443), 'HTTPS from the pce-export functions');
  }

  /**
   * One endpoint per service and VPC (an interface endpoint's private DNS name is the VPC's), in
   * the subnets of the first placement that asks for it.
   */
  private endpoint(endpoints: VpcEndpoints, vpc: IVpc, service: EndpointService): void {
    if (endpoints.created.has(service)) return;
    endpoints.created.add(service);
    const { prefix } = endpoints;
    if (service === 's3') {
      new GatewayVpcEndpoint(this, `${prefix}S3Endpoint`, {
        vpc,
        service: GatewayVpcEndpointAwsService.S3,
        subnets: [{ subnets: vpc.privateSubnets }],
      });
      return;
    }
    if (!endpoints.securityGroup) {
      endpoints.securityGroup = new SecurityGroup(this, `${prefix}EndpointSecurityGroup`, {
        vpc,
        description: 'pce-export VPC endpoints: HTTPS in from the functions that talk to the PCE',
        allowAllOutbound: false,
      });
      for (const client of endpoints.clients) this.admit(endpoints, client);
    }
    new InterfaceVpcEndpoint(this, `${prefix}${service}Endpoint`, {
      vpc,
      service: INTERFACE_SERVICES[service],
      subnets: { subnets: vpc.privateSubnets, onePerAz: true },
      privateDnsEnabled: true,
      securityGroups: [endpoints.securityGroup],
      open: false,
    });
  }
}
