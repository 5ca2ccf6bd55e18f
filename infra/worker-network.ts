/**
 * Where one region's worker tasks run: a VPC of their own over two Availability Zones and a security group with no
 * inbound rules and HTTPS as the only way out (the tasks only call out: SQS, DynamoDB, Bedrock, @connections, S3, the
 * image registry).
 * - `public` (default): public subnets with a route to an internet gateway; each task gets a public IPv4 address.
 *   Nothing can connect in (no inbound rule), and there is no NAT gateway to pay for.
 * - `nat`: the tasks sit in private subnets without public addresses and go out through one NAT gateway in a public
 *   subnet (one per region, not per zone: a zone outage then also stops the other zone's egress; see the README).
 * Either way DynamoDB and S3 are reached through gateway VPC endpoints, which cost nothing and keep that traffic off
 * the NAT gateway's per-GB charge (VPC user guide, "Gateway endpoints").
 * Plain @pulumi/aws resources, not awsx.ec2.Vpc: awsx's components are remote and opaque under the tests' mocks.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { WorkerNetwork as NetworkMode } from "./config";

export const VPC_CIDR = "10.40.0.0/16";
/**
 * Zones where Linux tasks on Fargate do not run (Amazon ECS developer guide, "Supported Regions for Amazon ECS on AWS
 * Fargate": us-west-1 `usw1-az1` and `usw1-az3` only; ap-northeast-1 `apne1-az1`, `apne1-az2` and `apne1-az4` only).
 * By zone ID: zone names map to IDs differently in each account, so in an older account `us-west-1a` can be usw1-az2.
 */
export const NO_FARGATE_ZONE_IDS = ["usw1-az2", "apne1-az3"] as const;
/** The tasks' one outbound rule. */
export const WORKER_EGRESS = { description: "HTTPS to AWS APIs and the image registry", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] };
const PUBLIC_CIDRS = ["10.40.0.0/20", "10.40.16.0/20"];
const PRIVATE_CIDRS = ["10.40.128.0/20", "10.40.144.0/20"];

export interface WorkerNetworkArgs {
  /** `public` subnets with public IPs (no NAT), or `nat`: private subnets behind a NAT gateway. */
  readonly mode: NetworkMode;
}

export class WorkerNetwork extends pulumi.ComponentResource {
  /** The subnets the tasks run in. */
  public readonly taskSubnetIds: pulumi.Output<string>[];
  public readonly securityGroupId: pulumi.Output<string>;
  /** Whether tasks get a public IPv4 address (needed to reach AWS APIs from a public subnet). */
  public readonly assignPublicIp: boolean;
  /**
   * What a task needs before it starts: the task subnets' route table associations (until then a subnet uses the VPC's
   * main route table, which has no way out; in `nat` mode they come after the NAT gateway is available) and the
   * gateway endpoints. A task started earlier cannot pull its image or bundle, and a first deployment whose tasks keep
   * failing is stopped by the circuit breaker with nothing to roll back to.
   */
  public readonly ready: pulumi.Resource[] = [];

  constructor(name: string, args: WorkerNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chat:worker:WorkerNetwork", name, {}, opts);
    const parent = { parent: this };
    // Regional zones only (no Local or Wavelength Zones, which need opting in and lack Fargate), and none where Fargate
    // does not run.
    const zones = aws.getAvailabilityZonesOutput(
      { state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }], excludeZoneIds: [...NO_FARGATE_ZONE_IDS] },
      parent,
    ).names;

    const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: VPC_CIDR, enableDnsSupport: true, enableDnsHostnames: true }, parent);
    const gateway = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id }, parent);
    const publicRoutes = new aws.ec2.RouteTable(`${name}-public-routes`, { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }] }, parent);
    const subnets = (kind: "public" | "private", cidrs: string[], routeTableId: pulumi.Input<string>) =>
      cidrs.map((cidrBlock, i) => {
        const subnet = new aws.ec2.Subnet(
          `${name}-${kind}-${i}`,
          // Addresses are given per task (assignPublicIp), never to whatever else lands in the subnet.
          { vpcId: vpc.id, cidrBlock, availabilityZone: zones.apply((names) => names[i % names.length]!), mapPublicIpOnLaunch: false },
          parent,
        );
        const association = new aws.ec2.RouteTableAssociation(`${name}-${kind}-${i}-routes`, { subnetId: subnet.id, routeTableId }, parent);
        return { subnet, association };
      });
    const publicSubnets = subnets("public", PUBLIC_CIDRS, publicRoutes.id);

    let taskSubnets = publicSubnets;
    let taskRoutes = publicRoutes;
    if (args.mode === "nat") {
      const address = new aws.ec2.Eip(`${name}-nat-ip`, { domain: "vpc" }, parent);
      const nat = new aws.ec2.NatGateway(`${name}-nat`, { allocationId: address.id, subnetId: publicSubnets[0]!.subnet.id }, { ...parent, dependsOn: [gateway] });
      const privateRoutes = new aws.ec2.RouteTable(`${name}-private-routes`, { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }] }, parent);
      taskSubnets = subnets("private", PRIVATE_CIDRS, privateRoutes.id);
      taskRoutes = privateRoutes;
    }
    this.ready.push(...taskSubnets.map((s) => s.association));
    const region = aws.getRegionOutput({}, parent).region;
    for (const service of ["dynamodb", "s3"]) {
      this.ready.push(
        new aws.ec2.VpcEndpoint(
          `${name}-${service}`,
          { vpcId: vpc.id, serviceName: pulumi.interpolate`com.amazonaws.${region}.${service}`, vpcEndpointType: "Gateway", routeTableIds: [taskRoutes.id] },
          parent,
        ),
      );
    }

    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-tasks`,
      {
        vpcId: vpc.id,
        description: "Streaming chat worker tasks: outbound only",
        // No inbound rule at all: nothing connects to a worker; answers leave through @connections.
        ingress: [],
        // Out: HTTPS only, which is all a task speaks (AWS APIs, the image registry, its bundle). The VPC's DNS
        // resolver, the task's credentials endpoint and time sync are never filtered by security groups (VPC user
        // guide, "Security group rules"), so they need no rule.
        egress: [WORKER_EGRESS],
        revokeRulesOnDelete: true,
      },
      parent,
    );

    this.taskSubnetIds = taskSubnets.map((s) => s.subnet.id);
    this.securityGroupId = securityGroup.id;
    this.assignPublicIp = args.mode === "public";
    this.registerOutputs({ securityGroupId: this.securityGroupId, taskSubnetIds: this.taskSubnetIds });
  }
}
