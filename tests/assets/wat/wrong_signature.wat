;; Exports init and handle by name, but as func() with no parameters or result.
(component
  (core module $m
    (func (export "init"))
    (func (export "handle")))
  (core instance $i (instantiate $m))
  (func $init (canon lift (core func $i "init")))
  (export "init" (func $init))
  (func $handle (canon lift (core func $i "handle")))
  (export "handle" (func $handle))
)
