// Package config reads keepalived.conf files, their VRRP part, the way
// keepalived 2.2.7 does, and resolves them into a typed model for the hactl
// daemon.
//
// Reading happens in three layers:
//
//   - a lexer turns the text into words, braces and line ends, applying
//     keepalived's rules for comments ('#' and '!' outside quotes), quoting
//     (single and double quotes, backslash escapes), conditional lines
//     ("@id ..."), parameter definitions ("$NAME=value"), a trailing '\'
//     that continues a line, and include directives (globs relative to the
//     including file);
//   - a block tree: every statement is a keyword, its arguments and an
//     optional block of child statements, each with its file:line:col;
//   - a typed model (Config) built from the tree, with keepalived's defaults
//     filled in and semantic checks applied.
//
// Problems are collected, never just the first: every problem in every file
// comes back as a Diagnostic whose String form is "file:line:col: message".
// Host-dependent checks (does the interface exist, is a script present and
// safe) are a separate step, Check, whose host side is the HostChecker
// interface so that tests can inject it.
//
// The package imports only the standard library.
package config
