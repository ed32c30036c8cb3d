package netlab

// HostStatus is what Status finds of one host.
type HostStatus struct {
	Host        *Host `json:"host"`
	NetnsExists bool  `json:"netns_exists"`
	SSHDRunning bool  `json:"sshd_running"`
}

// LabStatus is what Status finds of a lab.
type LabStatus struct {
	Lab     *Lab         `json:"lab"`
	Healthy bool         `json:"healthy"`
	Hosts   []HostStatus `json:"hosts"`
}
