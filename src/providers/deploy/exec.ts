import type { z } from 'zod';
import type { ExecDeploy } from '../../domain/spec';
import type { ProviderContext } from '../context';
import { runExecStepOrFail } from '../exec/exec-step';
import type { Deployer } from './deployer';

/** Runs the user's own deploy and undeploy commands; TOLLGATE_VERSION names the version to act on. */
export class ExecDeployer implements Deployer {
  readonly type = 'exec';

  constructor(private readonly config: z.infer<typeof ExecDeploy>) {}

  async deploy(ctx: ProviderContext, version: string): Promise<undefined> {
    await runExecStepOrFail(ctx, this.config, 'deploy', this.config.deploy, { TOLLGATE_VERSION: version });
    return undefined;
  }

  async undeploy(ctx: ProviderContext, version: string): Promise<void> {
    await runExecStepOrFail(ctx, this.config, 'undeploy', this.config.undeploy, { TOLLGATE_VERSION: version });
  }
}
