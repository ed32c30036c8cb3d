package cli

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestWatchFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    WatchOptions // IO and Global left out
		wantErr string
	}{
		{args: nil, want: WatchOptions{}},
		{args: []string{"--interface", "eth0"}, want: WatchOptions{Interface: "eth0"}},
		{args: []string{"--interface", "eth0", "--duration", "10s", "--count", "5"}, want: WatchOptions{Interface: "eth0", Duration: 10 * time.Second, Count: 5}},
		{args: []string{"--file", "vrrp.pcap"}, want: WatchOptions{File: "vrrp.pcap"}},
		{args: []string{"--file=vrrp.pcapng", "--duration", "1m30s"}, want: WatchOptions{File: "vrrp.pcapng", Duration: 90 * time.Second}},
		{args: []string{"--free", "--interface", "eth0"}, want: WatchOptions{Interface: "eth0", Free: true}},
		{args: []string{"--free", "--duration", "30s"}, want: WatchOptions{Free: true, Duration: 30 * time.Second}},
		{args: []string{"--interface", "eth0", "--file", "x.pcap"}, wantErr: "[file interface] were all set"},
		{args: []string{"--count", "-1"}, wantErr: "--count and --duration cannot be negative"},
		{args: []string{"--duration", "-5s"}, wantErr: "--count and --duration cannot be negative"},
		{args: []string{"--duration", "10"}, wantErr: `invalid argument "10" for "--duration"`},
		{args: []string{"--count", "many"}, wantErr: `invalid argument "many" for "--count"`},
		{args: []string{"eth0"}, wantErr: `unknown command "eth0"`},
		{args: []string{"-i", "eth0"}, wantErr: "unknown shorthand flag: 'i'"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			io, _, _ := TestStreams()
			f := NewFactory(io, func(string) string { return "" })
			var got *WatchOptions
			err := execFlags(t, newCmdWatch(f, func(o *WatchOptions) error { got = o; return nil }), tc.args...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				if got != nil {
					t.Errorf("ran with %+v despite the error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.IO != f.IO || got.Global != f.Global {
				t.Error("options do not carry the factory's streams and global options")
			}
			c := *got
			c.IO, c.Global = nil, nil
			if !reflect.DeepEqual(c, tc.want) {
				t.Errorf("options\n got %+v\nwant %+v", c, tc.want)
			}
		})
	}
}
