;; Imports only cove:host/chain (an empty instance is enough for the contract check).
(component
  (import "cove:host/chain@0.1.0" (instance))
)
