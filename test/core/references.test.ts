import { describe, expect, it } from '@jest/globals'
import {
  clusterProblem,
  imageReferenceProblem,
  revisionProblem,
  secretArnProblem,
  serviceProblem,
} from '@ecs-lockstep/core/references'

describe('image references (Docker grammar, ECS length)', () => {
  it.each([
    'nginx',
    'app:v1',
    'wwhd-dev-backend:3f2c1d9',
    'localhost:5000/team/app:1.0',
    '123456789012.dkr.ecr.us-east-1.amazonaws.com/wwhd-dev-backend:abc123',
    `123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:${'a'.repeat(64)}`,
    `registry.example.com:8443/a/b/c:tag@sha256:${'0'.repeat(64)}`,
    '[::1]:5000/app:1',
  ])('accepts %s', (value) => expect(imageReferenceProblem(value)).toBeUndefined())

  it.each([
    'repo/app: tag',
    'App:latest',
    'app:-tag',
    'app:',
    '../../../../etc/passwd',
    'a'.repeat(256),
    '{"image":"x"}',
    'app\u202e:1',
    `app@sha256:${'z'.repeat(64)}`,
    'https://registry/app',
  ])('refuses %j', (value) => expect(imageReferenceProblem(value)).toMatch(/expected an image reference/))
})

describe('ECS names and ARNs', () => {
  it('takes names and ARNs of clusters and services, and nothing else', () => {
    expect(clusterProblem('wwhd-cluster')).toBeUndefined()
    expect(clusterProblem('arn:aws:ecs:us-east-1:123456789012:cluster/wwhd-cluster')).toBeUndefined()
    expect(clusterProblem('arn:aws-cn:ecs:cn-north-1:123456789012:cluster/c')).toBeUndefined()
    expect(clusterProblem('wwhd cluster')).toMatch(/expected a cluster name/)
    expect(clusterProblem('a'.repeat(256))).toMatch(/expected a cluster name/)
    expect(
      serviceProblem('arn:aws:ecs:us-east-1:123456789012:service/wwhd-cluster/wwhd-backend'),
    ).toBeUndefined()
    expect(serviceProblem('arn:aws:ecs:us-east-1:123456789012:service/wwhd-backend')).toBeUndefined()
    expect(serviceProblem('$(id)')).toMatch(/expected a service name/)
  })

  it('takes revisions as family, family:revision or ARN; a rollback target needs the revision', () => {
    expect(revisionProblem('wwhd-backend')).toBeUndefined()
    expect(revisionProblem('wwhd-backend:12')).toBeUndefined()
    expect(
      revisionProblem('arn:aws:ecs:us-east-1:123456789012:task-definition/wwhd-backend:12'),
    ).toBeUndefined()
    expect(revisionProblem('wwhd-backend', false)).toMatch(
      /^expected family:revision or a task definition ARN$/,
    )
    expect(revisionProblem('wwhd-backend:x')).toMatch(/expected family, family:revision/)
  })
})

it('takes Secrets Manager and SSM parameter ARNs as secret sources, and nothing else', () => {
  for (const arn of [
    'arn:aws:secretsmanager:us-east-1:123456789012:secret:wwhd/openai-AbCdEf',
    'arn:aws:secretsmanager:us-east-1:123456789012:secret:wwhd/app-AbCdEf:JWT_SECRET::',
    'arn:aws:ssm:eu-west-2:123456789012:parameter/wwhd/jwt',
  ])
    expect(secretArnProblem(arn)).toBeUndefined()
  for (const value of [
    'sk-live-1234',
    'arn:aws:s3:::bucket/key',
    'arn:aws:ssm:us-east-1:123456789012:document/x',
    '',
  ])
    expect(secretArnProblem(value)).toMatch(/^expected the ARN of a Secrets Manager secret/)
})
