//! An in-memory Kubernetes API server that kube-rs and kubectl accept (see APISERVER.md).
