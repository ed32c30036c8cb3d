// Package vmac creates and removes the VMAC interfaces of use_vmac: a
// macvlan in private mode on an instance's interface, with the virtual
// router MAC (00:00:5e:00:01:VRID for IPv4, 00:00:5e:00:02:VRID for IPv6,
// RFC 5798 §7.3), the sysctls keepalived 2.2.7 sets on it and on its base
// interface (restored when the last VMAC of a base goes), and the cleanup
// of one a crash left behind.
//
// The decisions (the name, the MAC, reuse or replace an interface found
// at start, the sysctl plan) are pure functions of what the kernel
// reports (vmac.go); the kernel side is Linux only (manager_linux.go), and
// other systems get a Manager that says so (manager_other.go).
package vmac
