# Runs inside the DAHDI test VM (started by vm.py, as /bin/sh guest.sh): loads the
# real DAHDI modules, configures two software E1 spans ("loc" dynamic spans looped to
# each other), then runs the requested command; its exit status becomes the VM's.
# Exit status 125 means the VM or DAHDI could not be set up.
set -u
fail() { echo "CTI_VM_SETUP_FAILED: $*"; exit 125; }
KO="$cti_cache/modules"
mkdir -p /dev/shm && mount -t tmpfs shm /dev/shm || fail "mount /dev/shm"
# loopback up: the control API (cti run / cti spans) listens on 127.0.0.1
ip link set lo up || fail "ip link set lo up"
insmod "$KO/dahdi.ko" auto_assign_spans=1 || fail "insmod dahdi.ko"
insmod "$KO/dahdi_dynamic.ko" || fail "insmod dahdi_dynamic.ko"
insmod "$KO/dahdi_dynamic_loc.ko" || fail "insmod dahdi_dynamic_loc.ko"
# Span 1 = channels 1..31, span 2 = channels 32..62; TS16 (channels 16 and 47) is a
# D-channel here.  Tests that need CAS rewrite this file and run dahdi_cfg again.
cat > /tmp/system.conf <<CONF
dynamic=loc,1:0,31,0
dynamic=loc,1:1,31,0
bchan=1-15,17-31
dchan=16
bchan=32-46,48-62
dchan=47
alaw=1-62
CONF
dahdi_cfg -c /tmp/system.conf || fail "dahdi_cfg"
[ -e /dev/dahdi/ctl ] || fail "/dev/dahdi/ctl missing after dahdi_cfg"
echo "CTI_VM_DAHDI_READY"
sh "$cti_cmd"
