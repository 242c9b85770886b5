import t from 'tap';
import { UsageError } from '../lib/errors.ts';
import { parseHostPattern, selectHostNames, type PatternScope } from '../lib/inventory/pattern.ts';

const scope: PatternScope = {
  hosts: ['web1', 'web2', 'db1', 'db2', 'nas'],
  groups: {
    all: ['web1', 'web2', 'db1', 'db2', 'nas'],
    web: ['web1', 'web2'],
    db: ['db1', 'db2'],
    prod: ['web1', 'db1'],
    home: ['nas'],
  },
};
const select = (pattern: string) => selectHostNames(pattern, scope);

t.test('pattern: all, a group and a host', async (t) => {
  t.same(select('all'), ['web1', 'web2', 'db1', 'db2', 'nas']);
  t.same(select('*'), ['web1', 'web2', 'db1', 'db2', 'nas']);
  t.same(select('db'), ['db1', 'db2']);
  t.same(select('nas'), ['nas']);
});

t.test('pattern: a comma list is a union in inventory order, each host once', async (t) => {
  t.same(select('nas,web'), ['web1', 'web2', 'nas']);
  t.same(select('web,prod,web1'), ['web1', 'web2', 'db1']);
  t.same(select(' web , db1 ,'), ['web1', 'web2', 'db1'], 'spaces and empty terms are ignored');
});

t.test('pattern: ! excludes and & intersects, wherever they stand', async (t) => {
  t.same(select('all,!db'), ['web1', 'web2', 'nas']);
  t.same(select('!db,all'), ['web1', 'web2', 'nas']);
  t.same(select('web,&prod'), ['web1']);
  t.same(select('web,db,&prod,!db1'), ['web1']);
  t.same(select('web,!web1,!web2'), []);
});

t.test('pattern: with only ! or & terms the selection starts from all hosts', async (t) => {
  t.same(select('!db'), ['web1', 'web2', 'nas']);
  t.same(select('&prod'), ['web1', 'db1']);
  t.same(select('!prod,!home'), ['web2', 'db2']);
});

t.test('pattern: wildcards match host names and group names', async (t) => {
  t.same(select('web*'), ['web1', 'web2']);
  t.same(select('db?'), ['db1', 'db2']);
  t.same(select('ho*'), ['nas'], 'group home matched by name');
  t.same(select('all,!*1'), ['web2', 'db2', 'nas']);
  t.same(selectHostNames('nas.lan*', { hosts: ['nas.lan', 'nasXlan'], groups: {} }), ['nas.lan'], '. is literal');
});

t.test('pattern: an unknown name is a UsageError that lists what exists', async (t) => {
  t.throws(() => select('wbe'), UsageError);
  t.throws(() => select('wbe'), {
    message: [
      "host pattern 'wbe': unknown host or group 'wbe' (did you mean 'web'?)",
      '  groups: all, web, db, prod, home',
      '  hosts: web1, web2, db1, db2, nas',
    ].join('\n'),
  });
});

t.test('pattern: every unknown name is reported, excluded ones too', async (t) => {
  t.throws(() => select('web,!dbb,&x*,zzz'), {
    message: [
      "host pattern 'web,!dbb,&x*,zzz': unknown host or group 'dbb' (did you mean 'db' or 'db1' or 'db2'?); " +
        "'x*' matches no host or group; unknown host or group 'zzz'",
      '  groups: all, web, db, prod, home',
      '  hosts: web1, web2, db1, db2, nas',
    ].join('\n'),
  });
});

t.test('pattern: names of Object.prototype members are unknown names, not crashes', async (t) => {
  t.throws(() => select('constructor'), UsageError);
  t.throws(() => select('toString'), UsageError);
});

t.test('pattern: long name lists are cut short', async (t) => {
  const hosts = Array.from({ length: 40 }, (_, i) => `h${i}`);
  t.throws(() => selectHostNames('nope', { hosts, groups: {} }), { message: /h29, \.\.\. and 10 more$/ });
});

t.test('pattern: empty patterns and bare operators are usage errors', async (t) => {
  t.throws(() => select(''), { message: "host pattern '' is empty; use 'all' for every host" });
  t.throws(() => select(' , '), UsageError);
  t.throws(() => select('web,!'), { message: "host pattern 'web,!': '!' must be followed by a host or group name" });
});

t.test('pattern: parsing keeps the operator and the name', async (t) => {
  t.same(parseHostPattern('web, !db1 ,&prod'), [
    { op: 'add', name: 'web' },
    { op: 'exclude', name: 'db1' },
    { op: 'intersect', name: 'prod' },
  ]);
});
