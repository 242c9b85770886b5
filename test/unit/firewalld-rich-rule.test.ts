import t from 'tap';
import { normalizeRichRule, shellWords } from '../../modules/firewalld/rich-rule.ts';

// Each spelling with what firewalld 2.3 itself made of it: str(Rich_Rule(rule_str=...))
// run on a test host, i.e. the form `firewall-cmd --list-rich-rules` prints.
const CAPTURED: readonly (readonly [string, string])[] = [
  ["rule accept family=ipv4 service name=ssh source address=10.0.0.0/8 log level=info limit value=\"3/minute\" prefix=\"ssh \"", "rule family=\"ipv4\" source address=\"10.0.0.0/8\" service name=\"ssh\" log prefix=\"ssh \" level=\"info\" limit value=\"3/m\" accept"],
  ["rule family=ipv4 source address=10.0.0.0/8 service name=ssh log prefix=\"ssh \" level=info limit value=3/m accept", "rule family=\"ipv4\" source address=\"10.0.0.0/8\" service name=\"ssh\" log prefix=\"ssh \" level=\"info\" limit value=\"3/m\" accept"],
  ["rule family=\"ipv4\" source address=\"192.168.1.0/24\" port port=\"8080\" protocol=\"tcp\" accept", "rule family=\"ipv4\" source address=\"192.168.1.0/24\" port port=\"8080\" protocol=\"tcp\" accept"],
  ["rule port protocol=tcp port=8080 accept source address=192.168.1.0/24 family=ipv4", "rule family=\"ipv4\" source address=\"192.168.1.0/24\" port port=\"8080\" protocol=\"tcp\" accept"],
  ["rule family=ipv6 source NOT address=fe80::/10 service name=dhcpv6-client drop", "rule family=\"ipv6\" source NOT address=\"fe80::/10\" service name=\"dhcpv6-client\" drop"],
  ["rule family=ipv6 source address=fe80::/10 NOT service name=dhcpv6-client drop", "rule family=\"ipv6\" source NOT address=\"fe80::/10\" service name=\"dhcpv6-client\" drop"],
  ["rule family=ipv4 source address=10.1.1.1 invert=true reject type=icmp-host-prohibited", "rule family=\"ipv4\" source NOT address=\"10.1.1.1\" reject type=\"icmp-host-prohibited\""],
  ["rule priority=-10 family=ipv4 source address=10.0.0.5 drop", "rule priority=\"-10\" family=\"ipv4\" source address=\"10.0.0.5\" drop"],
  ["rule priority=\"+5\" service name=http log prefix='web hit' level=notice limit value=1/second burst=5", "rule priority=\"5\" service name=\"http\" log prefix=\"web hit\" level=\"notice\" limit value=\"1/s\" burst=5"],
  ["rule service name=ftp audit limit value=\"2/hour\" reject", "rule service name=\"ftp\" audit limit value=\"2/h\" reject"],
  ["rule family=ipv4 forward-port port=2222 protocol=tcp to-port=22 to-addr=10.0.0.9", "rule family=\"ipv4\" forward-port port=\"2222\" protocol=\"tcp\" to-port=\"22\" to-addr=\"10.0.0.9\""],
  ["rule family=ipv4 source address=10.0.0.0/8 masquerade", "rule family=\"ipv4\" source address=\"10.0.0.0/8\" masquerade"],
  ["rule icmp-block name=echo-request", "rule icmp-block name=\"echo-request\""],
  ["rule protocol value=icmp accept", "rule protocol value=\"icmp\" accept"],
  ["rule source-port port=53 protocol=udp accept", "rule source-port port=\"53\" protocol=\"udp\" accept"],
  ["rule family=ipv4 destination address=10.0.0.1 service name=ssh mark set=0x1/0xff", "rule family=\"ipv4\" destination address=\"10.0.0.1\" service name=\"ssh\" mark set=0x1/0xff"],
  ["rule family=ipv4 source ipset=blocklist drop", "rule family=\"ipv4\" source ipset=\"blocklist\" drop"],
  ["rule source mac=aa:bb:cc:dd:ee:ff accept", "rule source mac=\"aa:bb:cc:dd:ee:ff\" accept"],
  ["rule service name=ssh nflog group=5 prefix=n queue-size=10 limit value=5/d accept", "rule service name=\"ssh\" nflog group=\"5\" prefix=\"n\" queue-size=\"10\" limit value=\"5/d\" accept"],
  ["rule tcp-mss-clamp value=pmtu", "rule tcp-mss-clamp value=\"pmtu\""],
  ["rule    service   name=ssh    accept", "rule service name=\"ssh\" accept"],
  ["rule family=ipv4 source address=10.0.0.0/8 service name=ssh accept limit value=10/m", "rule family=\"ipv4\" source address=\"10.0.0.0/8\" service name=\"ssh\" accept limit value=\"10/m\""],
];

// Rules firewalld refuses (each checked on the host), with the words our message uses.
const REFUSED: readonly (readonly [string, string])[] = [
  ["rule source address=10.0.0.1 accept", "needs family"],
  ["rule service name=ssh", "no action, log or audit"],
  ["rule service name=ssh port port=22 protocol=tcp accept", "more than one element"],
  ["rule service name=ssh accept drop", "more than one action"],
  ["rule family=ipv5 service name=ssh accept", "family 'ipv5'"],
  ["rule port port=22 protocol=tpc accept", "protocol 'tpc'"],
  ["rule service name=ssh accept limit value=3/week", "limit '3/week'"],
  ["rule service name=ssh color=red accept", "bad attribute 'color'"],
  ["service name=ssh accept", "starts with 'rule'"],
  ["rule family=ipv4 forward-port port=22 protocol=tcp accept", "needs to-port= or to-addr="],
  ["rule service name=\"ssh accept", "unclosed \" quote"],
  ["rule accept", "no element, no source and no destination"],
  ["rule log prefix=x level=loud service name=ssh accept", "log level 'loud'"],
];

t.test('rich rules: every spelling normalizes to exactly what firewalld prints', async (t) => {
  for (const [written, listed] of CAPTURED) t.equal(normalizeRichRule(written), listed, written);
});

t.test('rich rules: the normalized form is stable when normalized again', async (t) => {
  for (const [, listed] of CAPTURED) t.equal(normalizeRichRule(listed), listed, listed);
});

t.test('rich rules: rules firewalld refuses are refused with a message saying what is wrong', async (t) => {
  for (const [rule, message] of REFUSED) t.throws(() => normalizeRichRule(rule), { message: new RegExp(message.replace(/[()]/g, '\\$&')) }, rule);
});

t.test('rich rules: words split like a POSIX shell, quotes and backslashes included', async (t) => {
  t.same(shellWords(`a "b c" 'd e' f\\ g h="i j" ''`), ['a', 'b c', 'd e', 'f g', 'h=i j', '']);
  t.same(shellWords(`x="a\\"b"`), ['x=a"b']);
});
