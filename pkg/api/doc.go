// Package api holds the types of hactl's control API and the client the
// operator commands use. The daemon serves the API as HTTP/JSON on a unix
// socket (so `curl --unix-socket /run/hactl/hactl.sock http://hactl/v1/status`
// works); the CLI reaches it locally or through SSH's streamlocal
// forwarding. docs/api.md describes every endpoint.
//
// The types are the contract: fields are only added, never renamed or
// removed, within /v1.
package api
