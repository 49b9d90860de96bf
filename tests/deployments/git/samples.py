"""The files a GitOps repository holds, with comments, odd indentation and quotes: the
edits must keep every byte but the image's."""

from __future__ import annotations

KUSTOMIZATION = """\
# Production overlay: Argo CD syncs this folder.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../base   # the shared manifests
images:
    # Hoist writes this entry.
    - name: registry.example.com/shop
      newTag: "0.9"    # the tag in production
    - {name: redis, newTag: '7.2'}
"""

VALUES = """\
# Helm values for shop (prod)
replicaCount: 3
image:
  repository: registry.example.com/shop  # where images come from
  tag: '0.9'  # Hoist sets this
  pullPolicy: IfNotPresent
resources: {limits: {cpu: 500m}}
"""

MANIFEST = """\
# shop: the web workload and its nightly job
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: registry.example.com/shop:0.9   # runs migrations first
      containers:
        - name: shop
          image: registry.example.com/shop:0.9   # the app
          ports: [{containerPort: 8080}]
        - name: sidecar
          image: envoyproxy/envoy:v1.30
---
# Nightly clean-up with the same image
apiVersion: batch/v1
kind: CronJob
metadata:
  name: shop-cleanup
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: shop
            image: "registry.example.com/shop:0.9"
          restartPolicy: OnFailure
"""
