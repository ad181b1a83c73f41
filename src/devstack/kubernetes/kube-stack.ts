import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { startChildDaemon, waitForDaemon, type ChildDaemon } from '../child-daemon';
import { freePort } from '../free-port';
import { findOrBuildKubernetesBinaries } from './binaries';
import { kubeconfigYaml } from './kubeconfig';

/** The fake node's name; kwok manages nodes carrying this annotation. */
export const FAKE_NODE = 'kwok-node-0';
const KWOK_ANNOTATION = 'kwok.x-k8s.io/node';

export interface KubeStack {
  /** https://127.0.0.1:<port> */
  server: string;
  /** The API server's self-signed CA, PEM. */
  caPem: string;
  /** A token in system:masters: it sets the test cluster up; Tollgate's worker never uses it. */
  adminToken: string;
  /** A kubeconfig file for the admin token (context `admin`). */
  adminKubeconfig: string;
  stop(): Promise<void>;
}

/**
 * A real Kubernetes control plane on loopback: etcd, kube-apiserver (RBAC on, service-account
 * tokens signed with a key made here), kube-controller-manager (Deployments, ReplicaSets, garbage
 * collection), kube-scheduler, and kwok with one fake Node whose pods it runs and marks Ready.
 * The Gateway API CRDs are applied and established before it resolves.
 */
export async function startKubeStack(options: { log?: (line: string) => void } = {}): Promise<KubeStack> {
  const log = options.log ?? (() => {});
  const binaries = await findOrBuildKubernetesBinaries(log);
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'tollgate-kube-'));
  const daemons: ChildDaemon[] = [];
  const stop = async () => {
    for (const daemon of [...daemons].reverse()) await daemon.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcd = startChildDaemon(binaries.etcd, [
      '--name=tollgate-test',
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=tollgate-test=http://127.0.0.1:${peerPort}`,
      '--logger=zap',
      '--log-level=warn',
      // No fsync: a test cluster's data is thrown away, and fsync on a busy disk slows every write.
      '--unsafe-no-fsync',
    ]);
    daemons.push(etcd);
    await waitForDaemon(etcd, 'etcd', async () => (await fetch(`${etcdUrl}/health`)).ok, 60_000);

    const adminToken = crypto.randomBytes(24).toString('hex');
    const tokenFile = path.join(dir, 'tokens.csv');
    fs.writeFileSync(tokenFile, `${adminToken},tollgate-test-admin,tollgate-test-admin,system:masters\n`, {
      mode: 0o600,
    });
    const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const saPublic = path.join(dir, 'sa.pub');
    const saPrivate = path.join(dir, 'sa.key');
    fs.writeFileSync(saPublic, publicKey.export({ type: 'spki', format: 'pem' }));
    fs.writeFileSync(saPrivate, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const certDir = path.join(dir, 'certs');
    const apiserver = startChildDaemon(binaries.kubeApiserver, [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${certDir}`,
      `--token-auth-file=${tokenFile}`,
      '--authorization-mode=RBAC',
      `--service-account-key-file=${saPublic}`,
      `--service-account-signing-key-file=${saPrivate}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range=10.96.0.0/16',
      // No kubelets: pods need no service-account token volume, and fake nodes no not-ready taint
      // (the node-lifecycle controller that would lift it is not run; kwok keeps the nodes Ready).
      '--disable-admission-plugins=ServiceAccount,TaintNodesByCondition',
      '--enable-priority-and-fairness=false',
      // Streaming watch-lists need etcd's watch progress requests, which Debian's etcd 3.4 lacks:
      // with them offered, every informer (controller manager, scheduler, kwok) fell back to
      // relisting every ten seconds or so, and pods took 10-40 s to be seen Ready. Off, clients
      // list and watch as before, and a pod is Ready about a second after it is created.
      '--feature-gates=WatchList=false',
      '--profiling=false',
      '--v=0',
    ]);
    daemons.push(apiserver);
    const server = `https://127.0.0.1:${apiPort}`;
    const certFile = path.join(certDir, 'apiserver.crt');
    await waitForDaemon(
      apiserver,
      'kube-apiserver',
      async () =>
        fs.existsSync(certFile) && (await getText(`${server}/readyz`, adminToken, fs.readFileSync(certFile))) === 'ok',
      120_000,
    );
    const caPem = fs.readFileSync(certFile, 'utf8');
    const adminKubeconfig = path.join(dir, 'admin.kubeconfig');
    fs.writeFileSync(
      adminKubeconfig,
      kubeconfigYaml({ server, caPem, token: adminToken, context: 'admin', user: 'tollgate-test-admin' }),
      { mode: 0o600 },
    );

    const controllerManager = startChildDaemon(binaries.kubeControllerManager, [
      `--kubeconfig=${adminKubeconfig}`,
      '--leader-elect=false',
      '--controllers=deployment,replicaset,garbagecollector,namespace,serviceaccount,podgc',
      '--secure-port=0',
      '--concurrent-deployment-syncs=2',
      '--v=0',
    ]);
    daemons.push(controllerManager);
    const scheduler = startChildDaemon(binaries.kubeScheduler, [
      `--kubeconfig=${adminKubeconfig}`,
      '--leader-elect=false',
      '--secure-port=0',
      '--v=0',
    ]);
    daemons.push(scheduler);
    const kwok = startChildDaemon(binaries.kwok, [
      `--kubeconfig=${adminKubeconfig}`,
      `--config=${binaries.kwokStages}`,
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${KWOK_ANNOTATION}=fake`,
      // Leases keep the fake node Ready for the node-lifecycle logic, however long a run takes.
      '--node-lease-duration-seconds=40',
      `--server-address=127.0.0.1:${await freePort()}`,
    ]);
    daemons.push(kwok);

    const kc = new KubeConfig();
    kc.loadFromFile(adminKubeconfig);
    const api = KubernetesObjectApi.makeApiClient(kc);
    await applyGatewayApiCrds(api, binaries.gatewayApiCrds);
    await createFakeNode(api);
    await waitFor('the fake node to be Ready (kwok)', [kwok, controllerManager, scheduler], async () => {
      const node = await api.read<NodeLike>({ apiVersion: 'v1', kind: 'Node', metadata: { name: FAKE_NODE } });
      return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    });
    log(`Kubernetes API server on ${server} (etcd, controller manager, scheduler, kwok node ${FAKE_NODE})`);
    return { server, caPem, adminToken, adminKubeconfig, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

interface NodeLike extends KubernetesObject {
  status?: { conditions?: { type: string; status: string }[] };
}

function getText(url: string, token: string, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(body.trim()));
    });
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error('timeout')));
  });
}

async function waitFor(what: string, daemons: ChildDaemon[], ready: () => Promise<boolean>, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const daemon of daemons) {
      if (daemon.process.exitCode !== null)
        throw new Error(
          `a Kubernetes component exited (${daemon.process.exitCode}) while waiting for ${what}: ${daemon.output()}`,
        );
    }
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${daemons.map((d) => d.output().slice(-1000)).join('\n')}`);
    await sleep(200);
  }
}

async function applyGatewayApiCrds(api: KubernetesObjectApi, files: string[]): Promise<void> {
  const names: string[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
      const crd = doc.toJS() as KubernetesObject | null;
      if (!crd?.kind || crd.kind !== 'CustomResourceDefinition') continue;
      await api.patch(crd, undefined, undefined, 'tollgate-test-stack', true, 'application/apply-patch+yaml');
      names.push(crd.metadata?.name ?? '');
    }
  }
  await waitFor('the Gateway API CRDs to be established', [], async () => {
    for (const name of names) {
      const crd = await api.read<NodeLike>({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name },
      });
      if (!crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return false;
    }
    return true;
  });
}

async function createFakeNode(api: KubernetesObjectApi): Promise<void> {
  const capacity = { cpu: '32', memory: '256Gi', pods: '110' };
  await api.patch(
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: FAKE_NODE,
        annotations: { [KWOK_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: { type: 'kwok', 'kubernetes.io/hostname': FAKE_NODE, 'kubernetes.io/os': 'linux' },
      },
      status: { capacity, allocatable: capacity },
    } as KubernetesObject,
    undefined,
    undefined,
    'tollgate-test-stack',
    true,
    'application/apply-patch+yaml',
  );
}
