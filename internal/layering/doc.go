// Package layering has no code of its own: its test checks that the
// imports of every package of the module follow the layer table of
// docs/architecture.md, which it reads, so that the map and the check
// cannot say different things.
package layering
