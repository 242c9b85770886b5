# Prints, as one JSON object, what the selinux modules compare against: every
# boolean (runtime, persistent), the local file-context and port mappings, and
# every port mapping the policy and local store define. It uses libsemanage's
# own Python binding, the one `semanage` is built on, without `semanage`
# itself: that imports setools (and networkx), 0.5 s on metal but 30-60 s on
# an emulated test VM, for each of the four listings this replaces.
import json, sys
import selinux, semanage

h = semanage.semanage_handle_create()
if semanage.semanage_connect(h) < 0:
    sys.exit("cannot open the SELinux policy store (semanage needs root)")

def type_of(con):
    return semanage.semanage_context_get_type(con) if con else "<<none>>"

def listed(rc_list, what):
    rc, items = rc_list
    if rc < 0:
        sys.exit("cannot list " + what)
    return items

booleans = {}
for b in listed(semanage.semanage_bool_list(h), "booleans"):
    name = semanage.semanage_bool_get_name(b)
    persistent = semanage.semanage_bool_get_value(b)
    try:
        runtime = selinux.security_get_boolean_active(name)
    except OSError:  # not in the loaded policy (yet): it takes the stored value when loaded
        runtime = persistent
    booleans[name] = [runtime, persistent]

def ports(items):
    return [[semanage.semanage_port_get_proto_str(semanage.semanage_port_get_proto(p)),
             semanage.semanage_port_get_low(p), semanage.semanage_port_get_high(p),
             type_of(semanage.semanage_port_get_con(p))] for p in items]

print(json.dumps({
    "booleans": booleans,
    "fcontexts": [[semanage.semanage_fcontext_get_expr(f),
                   semanage.semanage_fcontext_get_type_str(semanage.semanage_fcontext_get_type(f)),
                   type_of(semanage.semanage_fcontext_get_con(f))]
                  for f in listed(semanage.semanage_fcontext_list_local(h), "file contexts")],
    "localPorts": ports(listed(semanage.semanage_port_list_local(h), "local ports")),
    "ports": ports(listed(semanage.semanage_port_list(h), "ports")),
}))
