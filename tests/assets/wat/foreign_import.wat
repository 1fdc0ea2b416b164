;; Imports an interface from a package the engine does not provide.
(component
  (import "foo:bar/baz" (instance))
)
