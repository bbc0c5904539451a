import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';

import type { EventRecord, State } from '../../libs/core/state.js';
import type { Labels } from '../../libs/model/types.js';
import { daemonSetObject } from '../../libs/core/k8s-objects.js';
import { humanDuration, translateTimestampSince } from '../../libs/present/age.js';
import { DESCRIBE_TABWRITER, GET_TABWRITER, formatTable, tabwrite } from '../../libs/present/table.js';
import type { GetOptions } from '../../libs/present/get.js';
import { renderGet } from '../../libs/present/get.js';
import { describeDaemonSet } from '../../libs/present/describe.js';
import { T0, dsSpec, makeDs, makeNode, makePod, makeState } from '../support/state-builders.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;
/** Go's time.Duration(1): one nanosecond, in milliseconds. */
const NS = 1e-6;

describe('humanDuration (apimachinery duration_test.go)', () => {
  // TestHumanDuration
  const basic: [number, string][] = [
    [SECOND, '1s'],
    [70 * SECOND, '70s'],
    [190 * SECOND, '3m10s'],
    [70 * MINUTE, '70m'],
    [47 * HOUR, '47h'],
    [49 * HOUR, '2d1h'],
    [(8 * 24 + 2) * HOUR, '8d'],
    [367 * 24 * HOUR, '367d'],
    [(365 * 2 * 24 + 25) * HOUR, '2y1d'],
    [(365 * 8 * 24 + 2) * HOUR, '8y'],
  ];
  // TestHumanDurationBoundaries
  const boundaries: [number, string][] = [
    [-2 * SECOND, '<invalid>'],
    [-2 * SECOND + NS, '0s'],
    [0, '0s'],
    [SECOND - 1, '0s'],
    [2 * MINUTE - 1, '119s'],
    [2 * MINUTE, '2m'],
    [2 * MINUTE + SECOND, '2m1s'],
    [10 * MINUTE - 1, '9m59s'],
    [10 * MINUTE, '10m'],
    [10 * MINUTE + SECOND, '10m'],
    [3 * HOUR - 1, '179m'],
    [3 * HOUR, '3h'],
    [3 * HOUR + MINUTE, '3h1m'],
    [8 * HOUR - 1, '7h59m'],
    [8 * HOUR, '8h'],
    [8 * HOUR + 59 * MINUTE, '8h'],
    [2 * DAY - 1, '47h'],
    [2 * DAY, '2d'],
    [2 * DAY + HOUR, '2d1h'],
    [8 * DAY - 1, '7d23h'],
    [8 * DAY, '8d'],
    [8 * DAY + 23 * HOUR, '8d'],
    [2 * YEAR - 1, '729d'],
    [2 * YEAR, '2y'],
    [2 * YEAR + 23 * HOUR, '2y'],
    [2 * YEAR + 23 * HOUR + 59 * MINUTE, '2y'],
    [2 * YEAR + 24 * HOUR - 1, '2y'],
    [2 * YEAR + 24 * HOUR, '2y1d'],
    [3 * YEAR, '3y'],
    [4 * YEAR, '4y'],
    [5 * YEAR, '5y'],
    [6 * YEAR, '6y'],
    [7 * YEAR, '7y'],
    [8 * YEAR - 1, '7y364d'],
    [8 * YEAR, '8y'],
    [8 * YEAR + 364 * DAY, '8y'],
    [9 * YEAR, '9y'],
  ];
  for (const [ms, want] of [...basic, ...boundaries]) {
    it(`${ms}ms → ${want}`, () => assert.equal(humanDuration(ms), want));
  }
});

describe('translateTimestampSince', () => {
  it('gives <unknown> for the zero time', () => assert.equal(translateTimestampSince(0, T0), '<unknown>'));
  it('measures from the whole second, as metav1.Time is stored', () => {
    assert.equal(translateTimestampSince(T0 + 900, T0 + 1000), '1s');
    assert.equal(translateTimestampSince(T0, T0 + 3 * HOUR + 5 * MINUTE), '3h5m');
  });
});

describe('tabwrite (Go text/tabwriter)', () => {
  it('aligns each block of consecutive lines that share a column; a line without it ends the block', () => {
    assert.equal(tabwrite('a\tb\nccc\td\nno tabs\nx\ty\n', DESCRIBE_TABWRITER), 'a    b\nccc  d\nno tabs\nx  y\n');
  });
  it('never pads the last cell of a line, and pads empty tab-terminated cells', () => {
    assert.equal(tabwrite('k:\t\nkey:\tv\n', DESCRIBE_TABWRITER), 'k:    \nkey:  v\n');
  });
  it('aligns nested columns block by block', () => {
    assert.equal(tabwrite('a\tb\tc\naa\tb\nx\ty\tz\n', DESCRIBE_TABWRITER), 'a   b  c\naa  b\nx   y  z\n');
  });
  it('keeps kubectl get columns at least 6 wide and 3 apart', () => {
    assert.equal(tabwrite('a\tb\nabcdefgh\tc\n', GET_TABWRITER), 'a          b\nabcdefgh   c\n');
    assert.equal(tabwrite('a\tb\n', GET_TABWRITER), 'a     b\n');
  });
  it('counts characters, not UTF-16 units', () => {
    assert.equal(tabwrite('😀\tx\nab\ty\n', DESCRIBE_TABWRITER), '😀   x\nab  y\n');
  });
  it('upper-cases headers in formatTable', () => {
    assert.equal(formatTable(['name', 'age'], [['x', '1s']]), 'NAME   AGE\nx      1s\n');
  });
});

// ---- a 3-node cluster ---------------------------------------------------------------------------

const NOW = T0 + 3 * HOUR + 5 * MINUTE;

function cluster(): State {
  const fluentd = makeDs('fluentd', {
    namespace: 'kube-system',
    uid: 'uid-fluentd',
    spec: dsSpec({
      metadata: { labels: { name: 'fluentd' } },
      spec: { containers: [{ name: 'fluentd', image: 'fluentd:v2' }], restartPolicy: 'Always' },
    }),
    status: {
      desiredNumberScheduled: 3,
      currentNumberScheduled: 3,
      numberReady: 2,
      numberAvailable: 2,
      numberUnavailable: 1,
      updatedNumberScheduled: 3,
      numberMisscheduled: 0,
      observedGeneration: 1,
    },
  });
  const exporter = makeDs('node-exporter', {
    namespace: 'monitoring',
    createdMs: NOW - 10 * SECOND,
    spec: dsSpec({
      metadata: { labels: { app: 'node-exporter' } },
      spec: {
        containers: [{ name: 'node-exporter', image: 'prom/node-exporter:v1.8.0' }],
        nodeSelector: { 'kubernetes.io/os': 'linux' },
      },
    }),
  });
  return makeState({
    daemonSets: [exporter, fluentd],
    nodes: [
      makeNode('node-c', { ready: 'Unknown', readyReason: 'NodeStatusUnknown', registeredMs: NOW - 60 * SECOND }),
      makeNode('node-a', {
        labels: {
          'kubernetes.io/hostname': 'node-a',
          'node-role.kubernetes.io/control-plane': '',
          'ds.io/agent-version': 'v0.2.0',
          'ds.io/runtime': 'process',
          'ds.io/internal-ip': '10.0.0.1',
        },
      }),
      makeNode('node-b', { unschedulable: true, registeredMs: T0 + HOUR }),
    ],
    pods: [
      makePod(fluentd, 'fluentd-pqrst', 'node-a', { createdMs: T0 + 2 * HOUR, deletionMs: NOW - SECOND }),
      makePod(fluentd, 'fluentd-abcde', 'node-a'),
      makePod(fluentd, 'fluentd-fghij', 'node-b', { createdMs: T0 + HOUR, restartCount: 2 }),
      makePod(fluentd, 'fluentd-klmno', 'node-c', {
        createdMs: NOW - 45 * SECOND,
        phase: 'Pending',
        ready: false,
        startedMs: undefined,
      }),
      makePod(exporter, 'node-exporter-uvwxy', 'node-a', {
        createdMs: NOW - 10 * SECOND,
        phase: 'Pending',
        ready: false,
        startedMs: undefined,
      }),
    ],
  });
}

function get(kind: 'ds' | 'pods' | 'nodes', opts: Partial<GetOptions> = {}): ReturnType<typeof renderGet> {
  return renderGet(kind, cluster(), { allNamespaces: false, output: 'table', nowMs: NOW, ...opts });
}

function lines(...rows: string[]): string {
  return rows.map((r) => `${r}\n`).join('');
}

describe('renderGet tables (3-node cluster)', () => {
  it('get ds -n kube-system', () => {
    assert.deepEqual(get('ds', { namespace: 'kube-system' }), {
      stdout: lines(
        'NAME      DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR   AGE',
        'fluentd   3         3         2       3            2           <none>          3h5m',
      ),
      stderr: '',
      exitCode: 0,
    });
  });

  it('get ds -A adds a leading NAMESPACE column, rows by namespace then name', () => {
    assert.equal(
      get('ds', { allNamespaces: true }).stdout,
      lines(
        'NAMESPACE     NAME            DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR            AGE',
        'kube-system   fluentd         3         3         2       3            2           <none>                   3h5m',
        'monitoring    node-exporter   0         0         0       0            0           kubernetes.io/os=linux   10s',
      ),
    );
  });

  it('get ds -o wide adds CONTAINERS IMAGES SELECTOR', () => {
    assert.equal(
      get('ds', { namespace: 'kube-system', output: 'wide' }).stdout,
      lines(
        'NAME      DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR   AGE    CONTAINERS   IMAGES       SELECTOR',
        'fluentd   3         3         2       3            2           <none>          3h5m   fluentd      fluentd:v2   name=fluentd',
      ),
    );
  });

  it('get pods -n kube-system: READY, STATUS (Pending on an unreachable node, Terminating), RESTARTS', () => {
    assert.equal(
      get('pods', { namespace: 'kube-system' }).stdout,
      lines(
        'NAME            READY   STATUS        RESTARTS   AGE',
        'fluentd-abcde   1/1     Running       0          3h5m',
        'fluentd-fghij   1/1     Running       2          125m',
        'fluentd-klmno   0/1     Pending       0          45s',
        'fluentd-pqrst   1/1     Terminating   0          65m',
      ),
    );
  });

  it('get pods -A: ContainerCreating while a pod waits on a Ready node', () => {
    assert.equal(
      get('pods', { allNamespaces: true }).stdout,
      lines(
        'NAMESPACE     NAME                  READY   STATUS              RESTARTS   AGE',
        'kube-system   fluentd-abcde         1/1     Running             0          3h5m',
        'kube-system   fluentd-fghij         1/1     Running             2          125m',
        'kube-system   fluentd-klmno         0/1     Pending             0          45s',
        'kube-system   fluentd-pqrst         1/1     Terminating         0          65m',
        'monitoring    node-exporter-uvwxy   0/1     ContainerCreating   0          10s',
      ),
    );
  });

  it('get pods -o wide adds IP NODE NOMINATED NODE READINESS GATES', () => {
    assert.equal(
      get('pods', { namespace: 'kube-system', output: 'wide' }).stdout,
      lines(
        'NAME            READY   STATUS        RESTARTS   AGE    IP       NODE     NOMINATED NODE   READINESS GATES',
        'fluentd-abcde   1/1     Running       0          3h5m   <none>   node-a   <none>           <none>',
        'fluentd-fghij   1/1     Running       2          125m   <none>   node-b   <none>           <none>',
        'fluentd-klmno   0/1     Pending       0          45s    <none>   node-c   <none>           <none>',
        'fluentd-pqrst   1/1     Terminating   0          65m    <none>   node-a   <none>           <none>',
      ),
    );
  });

  it('get pods -l selects by labels', () => {
    const selector = (l: Labels): boolean => l['app'] === 'node-exporter';
    assert.equal(
      get('pods', { allNamespaces: true, selector }).stdout,
      lines(
        'NAMESPACE    NAME                  READY   STATUS              RESTARTS   AGE',
        'monitoring   node-exporter-uvwxy   0/1     ContainerCreating   0          10s',
      ),
    );
  });

  it('get nodes: STATUS with SchedulingDisabled, Unknown shown as NotReady; ROLES; VERSION', () => {
    assert.equal(
      get('nodes', { namespace: 'ignored' }).stdout,
      lines(
        'NAME     STATUS                     ROLES           AGE    VERSION',
        'node-a   Ready                      control-plane   3h5m   v0.2.0',
        'node-b   Ready,SchedulingDisabled   <none>          125m   v0.1.0',
        'node-c   NotReady                   <none>          60s    v0.1.0',
      ),
    );
  });

  it('get nodes -o wide: addresses <none>, node info <unknown> unless the agent labels them', () => {
    assert.equal(
      get('nodes', { output: 'wide' }).stdout,
      lines(
        'NAME     STATUS                     ROLES           AGE    VERSION   INTERNAL-IP   EXTERNAL-IP   OS-IMAGE    KERNEL-VERSION   CONTAINER-RUNTIME',
        'node-a   Ready                      control-plane   3h5m   v0.2.0    10.0.0.1      <none>        <unknown>   <unknown>        process',
        'node-b   Ready,SchedulingDisabled   <none>          125m   v0.1.0    <none>        <none>        <unknown>   <unknown>        <unknown>',
        'node-c   NotReady                   <none>          60s    v0.1.0    <none>        <none>        <unknown>   <unknown>        <unknown>',
      ),
    );
  });

  it('a named get prints the header and that one row', () => {
    assert.equal(
      get('pods', { namespace: 'kube-system', name: 'fluentd-fghij' }).stdout,
      lines('NAME            READY   STATUS    RESTARTS   AGE', 'fluentd-fghij   1/1     Running   2          125m'),
    );
  });
});

describe('renderGet errors and empty lists', () => {
  const notFound: ['ds' | 'pods' | 'nodes', string][] = [
    ['ds', 'Error from server (NotFound): daemonsets.apps "x" not found\n'],
    ['pods', 'Error from server (NotFound): pods "x" not found\n'],
    ['nodes', 'Error from server (NotFound): nodes "x" not found\n'],
  ];
  for (const [kind, message] of notFound) {
    it(`get ${kind} x: NotFound on stderr, exit 1`, () => {
      assert.deepEqual(get(kind, { namespace: 'kube-system', name: 'x' }), { stdout: '', stderr: message, exitCode: 1 });
    });
  }

  it('a name in another namespace is not found', () => {
    assert.equal(get('ds', { name: 'fluentd' }).stderr, 'Error from server (NotFound): daemonsets.apps "fluentd" not found\n');
  });

  it('an empty namespaced list says which namespace (default when none given), on stderr, exit 0', () => {
    assert.deepEqual(get('ds'), { stdout: '', stderr: 'No resources found in default namespace.\n', exitCode: 0 });
    assert.deepEqual(get('pods', { namespace: 'empty' }), {
      stdout: '',
      stderr: 'No resources found in empty namespace.\n',
      exitCode: 0,
    });
  });

  it('an empty list across namespaces, or of nodes, says just "No resources found"', () => {
    const empty = makeState({});
    const opts: GetOptions = { allNamespaces: true, output: 'table', nowMs: NOW };
    assert.equal(renderGet('pods', empty, opts).stderr, 'No resources found\n');
    assert.equal(renderGet('nodes', empty, { ...opts, allNamespaces: false }).stderr, 'No resources found\n');
  });

  it('refuses a name with a selector, and a name across all namespaces', () => {
    assert.deepEqual(get('pods', { name: 'x', selector: () => true }), {
      stdout: '',
      stderr: 'error: name cannot be provided when a selector is specified\n',
      exitCode: 1,
    });
    assert.deepEqual(get('pods', { name: 'x', allNamespaces: true }), {
      stdout: '',
      stderr: 'error: a resource cannot be retrieved by name across all namespaces\n',
      exitCode: 1,
    });
  });
});

describe('renderGet -o name|json|yaml', () => {
  it('-o name prints resource/name, without namespaces', () => {
    assert.equal(get('ds', { allNamespaces: true, output: 'name' }).stdout, 'daemonset.apps/fluentd\ndaemonset.apps/node-exporter\n');
    assert.equal(
      get('pods', { namespace: 'kube-system', output: 'name' }).stdout,
      'pod/fluentd-abcde\npod/fluentd-fghij\npod/fluentd-klmno\npod/fluentd-pqrst\n',
    );
    assert.equal(get('nodes', { output: 'name' }).stdout, 'node/node-a\nnode/node-b\nnode/node-c\n');
  });

  it('-o json of a named get is the object, keys sorted, indented by 4', () => {
    const state = cluster();
    const out = renderGet('ds', state, { namespace: 'kube-system', name: 'fluentd', allNamespaces: false, output: 'json', nowMs: NOW });
    assert.equal(out.exitCode, 0);
    const ds = state.daemonSets.get('kube-system/fluentd');
    assert.ok(ds);
    assert.deepEqual(JSON.parse(out.stdout), JSON.parse(JSON.stringify(daemonSetObject(ds))));
    assert.ok(
      out.stdout.startsWith(
        '{\n    "apiVersion": "apps/v1",\n    "kind": "DaemonSet",\n    "metadata": {\n        "annotations": {\n' +
          '            "deprecated.daemonset.template.generation": "1"\n        },\n        "creationTimestamp": "2026-01-02T03:04:05Z",\n',
      ),
      out.stdout.slice(0, 300),
    );
    assert.ok(out.stdout.endsWith('}\n'));
  });

  it('-o json of a list is a v1 List of the objects in row order', () => {
    const list = JSON.parse(get('nodes', { output: 'json' }).stdout) as {
      apiVersion: string;
      kind: string;
      metadata: unknown;
      items: { metadata: { name: string } }[];
    };
    assert.equal(list.apiVersion, 'v1');
    assert.equal(list.kind, 'List');
    assert.deepEqual(list.metadata, { resourceVersion: '' });
    assert.deepEqual(
      list.items.map((n) => n.metadata.name),
      ['node-a', 'node-b', 'node-c'],
    );
    assert.deepEqual(get('pods', { namespace: 'empty', output: 'json' }), {
      stdout: '{\n    "apiVersion": "v1",\n    "items": [],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n',
      stderr: '',
      exitCode: 0,
    });
  });

  it('-o yaml prints sorted keys, list items at their parent indentation, YAML 1.1 quoting', () => {
    const out = get('ds', { namespace: 'kube-system', name: 'fluentd', output: 'yaml' }).stdout;
    assert.ok(
      out.startsWith(
        'apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  annotations:\n    deprecated.daemonset.template.generation: "1"\n',
      ),
      out,
    );
    assert.ok(out.includes('      containers:\n      - image: fluentd:v2\n        name: fluentd\n'), out);
    assert.ok(out.includes('\n  creationTimestamp: "2026-01-02T03:04:05Z"\n'), 'timestamps quoted as go-yaml v2 quotes them');
    const parsed: unknown = parseYaml(out);
    assert.deepEqual(parsed, JSON.parse(get('ds', { namespace: 'kube-system', name: 'fluentd', output: 'json' }).stdout));
  });
});

describe('describeDaemonSet', () => {
  it('prints kubectl describe ds: counts, pod template, events', () => {
    const tpl = {
      metadata: { labels: { name: 'fluentd' } },
      spec: {
        containers: [
          {
            name: 'fluentd',
            image: 'fluentd:v2',
            command: ['/bin/fluentd'],
            args: ['-c', '/etc/fluent.conf'],
            env: [{ name: 'FLUENT_UID', value: '0' }],
            readinessProbe: {
              exec: { command: ['cat', '/tmp/healthy'] },
              periodSeconds: 5,
              timeoutSeconds: 1,
              successThreshold: 1,
              failureThreshold: 3,
            },
          },
        ],
        tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' as const, effect: 'NoSchedule' as const }],
      },
    };
    const ds = makeDs('fluentd', {
      namespace: 'kube-system',
      labels: { 'k8s-app': 'fluentd-logging' },
      spec: dsSpec(tpl),
      status: {
        desiredNumberScheduled: 3,
        currentNumberScheduled: 3,
        numberReady: 2,
        numberAvailable: 2,
        numberUnavailable: 1,
        updatedNumberScheduled: 3,
        numberMisscheduled: 0,
        observedGeneration: 1,
      },
    });
    const other = makeDs('other', { namespace: 'kube-system', uid: 'uid-other' });
    const state = makeState({
      daemonSets: [ds, other],
      pods: [
        makePod(ds, 'fluentd-abcde', 'node-a'),
        makePod(ds, 'fluentd-fghij', 'node-b'),
        makePod(ds, 'fluentd-klmno', 'node-c', { phase: 'Pending', ready: false }),
        makePod(other, 'other-zzzzz', 'node-a', { phase: 'Failed' }),
      ],
    });
    const events: EventRecord[] = [
      {
        seq: 9,
        timeMs: NOW - 5 * MINUTE,
        kind: 'Warning',
        reason: 'FailedDaemonPod',
        object: 'daemonset/kube-system/fluentd',
        message: 'Found failed daemon pod kube-system/fluentd-old on node node-c, will try to kill it',
      },
      {
        seq: 3,
        timeMs: T0 + 5 * MINUTE,
        kind: 'Normal',
        reason: 'SuccessfulCreate',
        object: 'daemonset/kube-system/fluentd',
        message: 'Created pod: fluentd-abcde ',
      },
    ];
    assert.equal(
      describeDaemonSet(ds, state, events, NOW),
      lines(
        'Name:           fluentd',
        'Namespace:      kube-system',
        'Selector:       name=fluentd',
        'Node-Selector:  <none>',
        'Labels:         k8s-app=fluentd-logging',
        'Annotations:    deprecated.daemonset.template.generation: 1',
        'Desired Number of Nodes Scheduled: 3',
        'Current Number of Nodes Scheduled: 3',
        'Number of Nodes Scheduled with Up-to-date Pods: 3',
        'Number of Nodes Scheduled with Available Pods: 2',
        'Number of Nodes Misscheduled: 0',
        'Pods Status:  2 Running / 1 Waiting / 0 Succeeded / 0 Failed',
        'Pod Template:',
        '  Labels:  name=fluentd',
        '  Containers:',
        '   fluentd:',
        '    Image:      fluentd:v2',
        '    Port:       <none>',
        '    Host Port:  <none>',
        '    Command:',
        '      /bin/fluentd',
        '    Args:',
        '      -c',
        '      /etc/fluent.conf',
        '    Readiness:  exec [cat /tmp/healthy] delay=0s timeout=1s period=5s #success=1 #failure=3',
        '    Environment:',
        '      FLUENT_UID:  0',
        '    Mounts:        <none>',
        '  Volumes:         <none>',
        '  Node-Selectors:  <none>',
        '  Tolerations:     node-role.kubernetes.io/control-plane:NoSchedule op=Exists',
        'Events:',
        '  Type     Reason            Age   From                  Message',
        '  ----     ------            ----  ----                  -------',
        '  Normal   SuccessfulCreate  3h    daemonset-controller  Created pod: fluentd-abcde',
        '  Warning  FailedDaemonPod   5m    daemonset-controller  Found failed daemon pod kube-system/fluentd-old on node node-c, will try to kill it',
      ),
    );
  });

  it('says <none> for no events, aligned with the lines above it as kubectl does', () => {
    const ds = makeDs('fluentd');
    const text = describeDaemonSet(ds, makeState({ daemonSets: [ds] }), [], NOW);
    assert.ok(
      text.endsWith(
        lines(
          '    Image:         fluentd:v1',
          '    Port:          <none>',
          '    Host Port:     <none>',
          '    Environment:   <none>',
          '    Mounts:        <none>',
          '  Volumes:         <none>',
          '  Node-Selectors:  <none>',
          '  Tolerations:     <none>',
          'Events:            <none>',
        ),
      ),
      text,
    );
    assert.ok(text.includes('Labels:         <none>\nAnnotations:    deprecated.daemonset.template.generation: 1\n'), text);
    assert.ok(text.includes('Pods Status:  0 Running / 0 Waiting / 0 Succeeded / 0 Failed\n'), text);
  });
});
