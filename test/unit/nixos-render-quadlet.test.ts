import t from 'tap';
import { Skip } from '../../lib/module/skip.ts';
import { quadlet } from '../../modules/index.ts';
import { forced } from '../../lib/nixos/value.ts';
import { renderTask } from '../support/nixos-samples.ts';

t.test('nixos containers: a quadlet container becomes an oci-containers container run by podman', async (t) => {
  t.same(
    renderTask(
      quadlet.container({
        name: 'web',
        image: 'docker.io/library/nginx:1.27',
        publishPort: ['8080:80', 8443],
        volume: ['/srv/www:/usr/share/nginx/html:ro,Z', 'cache:/var/cache/nginx'],
        environment: { TZ: 'Europe/Berlin' },
        environmentFile: '/etc/web.env',
        label: { app: 'web' },
        exec: ['nginx', '-g', 'daemon off;'],
      }),
    ),
    {
      virtualisation: {
        podman: { enable: true },
        'oci-containers': {
          backend: 'podman',
          containers: {
            web: {
              image: 'docker.io/library/nginx:1.27',
              cmd: ['nginx', '-g', 'daemon off;'],
              ports: ['8080:80', '8443'],
              volumes: ['/srv/www:/usr/share/nginx/html:ro,Z', 'cache:/var/cache/nginx'],
              environment: { TZ: 'Europe/Berlin' },
              environmentFiles: ['/etc/web.env'],
              labels: { app: 'web' },
              autoStart: true,
            },
          },
        },
      },
    },
  );
});

t.test('nixos containers: options without an oci-containers field become the podman run arguments quadlet would pass', async (t) => {
  const fragment = renderTask(
    quadlet.container({
      name: 'app',
      containerName: 'app-main',
      image: 'registry.example/app:2',
      pull: 'always',
      network: ['host'],
      secret: ['dbpass,type=env,target=DB_PASSWORD'],
      healthCmd: 'curl -f http://localhost/ || exit 1',
      healthInterval: '30s',
      healthRetries: 3,
      autoUpdate: 'registry',
      user: 'app',
      group: 1000,
      userNS: 'keep-id',
      addCapability: ['NET_BIND_SERVICE'],
      dropCapability: ['ALL'],
      readOnly: true,
      tmpfs: ['/tmp'],
      podmanArgs: ['--memory=512m'],
      exec: '/app serve --port 80',
      restart: 'on-failure',
      timeoutStartSec: 900,
      description: 'The app',
      wantedBy: ['multi-user.target', 'app.target'],
    }),
  );
  t.same(fragment, {
    virtualisation: {
      podman: { enable: true },
      'oci-containers': {
        backend: 'podman',
        containers: {
          'app-main': {
            image: 'registry.example/app:2',
            cmd: ['/app', 'serve', '--port', '80'],
            labels: { 'io.containers.autoupdate': 'registry' },
            user: 'app:1000',
            extraOptions: [
              '--pull=always',
              '--network=host',
              '--secret=dbpass,type=env,target=DB_PASSWORD',
              '--health-cmd=curl -f http://localhost/ || exit 1',
              '--health-interval=30s',
              '--health-retries=3',
              '--userns=keep-id',
              '--cap-add=NET_BIND_SERVICE',
              '--cap-drop=ALL',
              '--read-only',
              '--tmpfs=/tmp',
              '--memory=512m',
            ],
            autoStart: true,
          },
        },
      },
    },
    systemd: {
      services: {
        'podman-app-main': { description: 'The app', wantedBy: ['app.target'], serviceConfig: { Restart: forced('on-failure'), TimeoutStartSec: forced(900) } },
      },
    },
  });
});

t.test('nixos containers: wantedBy [] means the container does not start at boot', async (t) => {
  const fragment = renderTask(quadlet.container({ name: 'job', image: 'localhost/job:1', wantedBy: [] })) as { virtualisation: { 'oci-containers': { containers: { job: { autoStart: boolean } } } } };
  t.equal(fragment.virtualisation['oci-containers'].containers.job.autoStart, false);
});

t.test('nixos containers: wantedBy default.target starts the container at boot, as multi-user.target does', async (t) => {
  const fragment = renderTask(quadlet.container({ name: 'desk', image: 'localhost/desk:1', wantedBy: ['default.target'] })) as { virtualisation: { 'oci-containers': { containers: { desk: { autoStart: boolean } } } } };
  t.equal(fragment.virtualisation['oci-containers'].containers.desk.autoStart, true);
});

t.test("nixos containers: extra [Service] keys are forced over oci-containers' own; a list is appended", async (t) => {
  const fragment = renderTask(quadlet.container({ name: 'a', image: 'x:1', extra: { Service: { TimeoutStopSec: 30, Environment: ['A=1'] } } })) as { systemd: { services: { 'podman-a': { serviceConfig: object } } } };
  t.same(fragment.systemd.services['podman-a'].serviceConfig, { TimeoutStopSec: forced(30), Environment: ['A=1'] });
});

t.test('nixos containers: quadlet-only references are refused with what to use instead', async (t) => {
  t.throws(() => renderTask(quadlet.container({ name: 'a', image: 'app.build' })), /image app\.build is a quadlet unit/);
  t.throws(() => renderTask(quadlet.container({ name: 'a', image: 'x:1', pod: 'app.pod' })), /oci-containers has no pods/);
  t.throws(() => renderTask(quadlet.container({ name: 'a', image: 'x:1', volume: ['data.volume:/data:Z'] })), /volume data\.volume:\/data:Z names a quadlet \.volume unit/);
  t.throws(() => renderTask(quadlet.container({ name: 'a', image: 'x:1', network: 'web.network' })), /network web\.network is a quadlet \.network unit/);
  t.throws(() => renderTask(quadlet.container({ name: 'a', image: 'x:1', extra: { Container: { ShmSize: '1g' } } })), /extra \[Container\] keys are quadlet syntax/);
  t.throws(() => renderTask(quadlet.container({ name: 'a', image: 'x:1', exec: 'sh -c "echo hi"' })), /uses quoting; on nixos give it as a list of words/);
  t.throws(() => renderTask(quadlet.container({ name: 'a', image: 'x:1', group: 'g' })), /group without user/);
});

t.test('nixos containers: networks, volumes, pods and rootless containers are skipped with the reason', async (t) => {
  const note = (task: Parameters<typeof renderTask>[0]) => {
    const skip = t.throws(() => renderTask(task)) as Skip;
    t.type(skip, Skip);
    return skip.note;
  };
  t.match(note(quadlet.network({ name: 'web', subnet: '10.89.7.0/24' })), /^on nixos virtualisation\.oci-containers has no networks: web\.network is not declared; create the network/);
  t.match(note(quadlet.volume({ name: 'data' })), /has no volumes: data\.volume is not declared; podman creates a named volume/);
  t.match(note(quadlet.pod({ name: 'app', publishPort: ['8443:443'] })), /has no pods/);
  t.match(note(quadlet.container({ name: 'sync', image: 'localhost/sync:1', scope: { user: 'alice' } })), /rootless quadlet sync\.container of user alice/);
});
