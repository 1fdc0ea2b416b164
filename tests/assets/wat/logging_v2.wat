;; Built against a future major of the contract: imports cove:host/logging@2.0.0.
(component
  (import "cove:host/logging@2.0.0" (instance))
)
