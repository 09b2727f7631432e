import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs'
import { ECRClient } from '@aws-sdk/client-ecr'
import { ECSClient } from '@aws-sdk/client-ecs'
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { STSClient } from '@aws-sdk/client-sts'
import { clientConfig } from '@ecs-lockstep/core/aws/clients'

/** The AWS clients a deploy talks to, created once per action run. */
export interface AwsClients {
  ecs: ECSClient
  elb: ElasticLoadBalancingV2Client
  logs: CloudWatchLogsClient
  ecr: ECRClient
  sts: STSClient
  region: string
}

/** What the service and task helpers need: the ECS client and its region. */
export type EcsAccess = Pick<AwsClients, 'ecs' | 'region'>

/** Only what verify-health needs: a bundle that never calls Logs, ECR or STS does not carry them. */
export type ServiceClients = Pick<AwsClients, 'ecs' | 'elb' | 'region'>

export function createClients(region: string): AwsClients {
  const config = clientConfig(region)
  return {
    ecs: new ECSClient(config),
    elb: new ElasticLoadBalancingV2Client(config),
    logs: new CloudWatchLogsClient(config),
    ecr: new ECRClient(config),
    sts: new STSClient(config),
    region,
  }
}

export function createServiceClients(region: string): ServiceClients {
  const config = clientConfig(region)
  return { ecs: new ECSClient(config), elb: new ElasticLoadBalancingV2Client(config), region }
}
