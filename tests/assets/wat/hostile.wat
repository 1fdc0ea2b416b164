;; A hand-written component implementing the cove:host `module` world (no
;; guest language inside). It imports nothing but the contract's types.
;;
;; `handle` picks its behaviour from the custom event's name, "wat.<op>":
;;   wat.ok       returns ok              wat.fail     returns err("asked to fail")
;;   wat.loop     loops forever           wat.grow     grows memory until refused, then traps
;;   wat.recurse  recurses without end
;;   wat.bad-pointer  returns an error string that lies outside its memory
;;   wat.utf8     returns an error string that is not UTF-8
;; (it looks only at the first letter of <op>).
;;
;; Canonical ABI notes: (meta, event) flattens to more than 16 values, so the
;; host writes the argument tuple into guest memory (through `realloc`) and
;; passes one pointer. Layout of that tuple:
;;    0 meta.id (ptr, len)    8 meta.accepted-at-ms    16 meta.attempt
;;   24 event discriminant (u8; custom = 5)    32 event payload
;; and for custom-event the payload starts with name (ptr, len).
;; result<_, string> flattens to 3 values, so it is returned through a
;; pointer: u8 discriminant at 0, string (ptr, len) at 4.
(component
  (import "cove:host/types@0.1.0" (instance $types
    (type $header (tuple string string))
    (export "header" (type $header-t (eq $header)))
    (type $block-event (record
      (field "chain-id" u64) (field "number" u64) (field "hash" string)
      (field "parent-hash" string) (field "timestamp" u64)))
    (export "block-event" (type $block-event-t (eq $block-event)))
    (type $log-event (record
      (field "chain-id" u64) (field "block-number" u64) (field "block-hash" string)
      (field "transaction-hash" string) (field "log-index" u32) (field "address" string)
      (field "topics" (list string)) (field "data" (list u8)) (field "removed" bool)))
    (export "log-event" (type $log-event-t (eq $log-event)))
    (type $tick-event (record (field "schedule" string) (field "scheduled-at-ms" u64)))
    (export "tick-event" (type $tick-event-t (eq $tick-event)))
    (type $message-event (record
      (field "transport" string) (field "sender" string) (field "recipient" string)
      (field "body" string) (field "metadata" (list $header-t))))
    (export "message-event" (type $message-event-t (eq $message-event)))
    (type $webhook-event (record
      (field "path" string) (field "method" string) (field "headers" (list $header-t))
      (field "body" (list u8))))
    (export "webhook-event" (type $webhook-event-t (eq $webhook-event)))
    (type $custom-event (record (field "name" string) (field "source" string) (field "payload" string)))
    (export "custom-event" (type $custom-event-t (eq $custom-event)))
    (type $lifecycle-phase (enum "started" "stopping" "reloaded"))
    (export "lifecycle-phase" (type $lifecycle-phase-t (eq $lifecycle-phase)))
    (type $lifecycle-event (record (field "phase" $lifecycle-phase-t) (field "detail" string)))
    (export "lifecycle-event" (type $lifecycle-event-t (eq $lifecycle-event)))
    (type $event (variant
      (case "block" $block-event-t) (case "log" $log-event-t) (case "tick" $tick-event-t)
      (case "message" $message-event-t) (case "webhook" $webhook-event-t)
      (case "custom" $custom-event-t) (case "lifecycle" $lifecycle-event-t)))
    (export "event" (type $event-t (eq $event)))
    (type $event-meta (record (field "id" string) (field "accepted-at-ms" u64) (field "attempt" u32)))
    (export "event-meta" (type $event-meta-t (eq $event-meta)))
  ))
  (alias export $types "event" (type $event))
  (alias export $types "event-meta" (type $event-meta))

  (core module $guest
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 1024))
    ;; results live at 16; error text at 64
    (data (i32.const 64) "asked to fail")
    (data (i32.const 80) "unknown wat op")
    (data (i32.const 96) "\ff\fe not utf-8")

    ;; bump allocator for the host's argument copies; reset after every call
    (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
      (local $ptr i32)
      (local.set $ptr
        (i32.and
          (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
      (global.set $bump (i32.add (local.get $ptr) (local.get $size)))
      (if (i32.gt_u (global.get $bump) (i32.shl (memory.size) (i32.const 16)))
        (then
          (if (i32.eq
                (memory.grow (i32.add
                  (i32.shr_u (i32.sub (global.get $bump) (i32.shl (memory.size) (i32.const 16))) (i32.const 16))
                  (i32.const 1)))
                (i32.const -1))
            (then unreachable))))
      (local.get $ptr))

    (func $ok (result i32)
      (i32.store8 (i32.const 16) (i32.const 0))
      (i32.const 16))

    (func $err (param $text i32) (param $len i32) (result i32)
      (i32.store8 (i32.const 16) (i32.const 1))
      (i32.store (i32.const 20) (local.get $text))
      (i32.store (i32.const 24) (local.get $len))
      (i32.const 16))

    (func $recurse (param $depth i32) (result i32)
      (i32.add (call $recurse (i32.add (local.get $depth) (i32.const 1))) (i32.const 1)))

    (func (export "init") (result i32)
      (call $ok))

    (func (export "handle") (param $args i32) (result i32)
      (local $op i32)
      (global.set $bump (i32.const 1024))
      ;; not a custom event, or a name shorter than "wat.x": unknown
      (if (i32.ne (i32.load8_u offset=24 (local.get $args)) (i32.const 5))
        (then (return (call $err (i32.const 80) (i32.const 14)))))
      (if (i32.lt_u (i32.load offset=36 (local.get $args)) (i32.const 5))
        (then (return (call $err (i32.const 80) (i32.const 14)))))
      (local.set $op (i32.load8_u offset=4 (i32.load offset=32 (local.get $args))))
      (if (i32.eq (local.get $op) (i32.const 111)) ;; 'o'
        (then (return (call $ok))))
      (if (i32.eq (local.get $op) (i32.const 102)) ;; 'f'
        (then (return (call $err (i32.const 64) (i32.const 13)))))
      (if (i32.eq (local.get $op) (i32.const 108)) ;; 'l'
        (then (loop $forever (br $forever))))
      (if (i32.eq (local.get $op) (i32.const 103)) ;; 'g'
        (then
          (loop $more
            (br_if $more (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
          unreachable))
      (if (i32.eq (local.get $op) (i32.const 114)) ;; 'r'
        (then (return (call $recurse (i32.const 0)))))
      (if (i32.eq (local.get $op) (i32.const 98)) ;; 'b'
        (then (return (call $err (i32.const 0x7fff0000) (i32.const 100)))))
      (if (i32.eq (local.get $op) (i32.const 117)) ;; 'u'
        (then (return (call $err (i32.const 96) (i32.const 12)))))
      (call $err (i32.const 80) (i32.const 14)))
  )
  (core instance $g (instantiate $guest))
  (alias core export $g "memory" (core memory $mem))
  (alias core export $g "realloc" (core func $realloc))

  (type $init-t (func (result (result (error string)))))
  (func $init (type $init-t)
    (canon lift (core func $g "init") (memory $mem) (realloc $realloc) string-encoding=utf8))
  (export "init" (func $init))

  (type $handle-t (func (param "meta" $event-meta) (param "event" $event) (result (result (error string)))))
  (func $handle (type $handle-t)
    (canon lift (core func $g "handle") (memory $mem) (realloc $realloc) string-encoding=utf8))
  (export "handle" (func $handle))
)
