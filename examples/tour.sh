#!/usr/bin/env bash
# The README's tour, from an empty Hoist to a promoted, approved and deployed image whose
# history says where it came from. Run it from the checkout while `make serve` runs in
# another terminal (same folder, so `hoist admin bootstrap` finds the same database):
#
#   bash examples/tour.sh
#
# HOIST_URL (default http://127.0.0.1:8000) names the server; HOIST is the hoist command.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
hoist="${HOIST:-.venv/bin/hoist}"
export HOIST_URL="${HOIST_URL:-http://127.0.0.1:8000}"

step() { printf '\n== %s\n' "$*"; }

step "1. The first super-admin, straight against the database; its token is the last line"
HOIST_TOKEN="$("$hoist" admin bootstrap --email admin@example.com --name Admin | tail -n 1)"
export HOIST_TOKEN

step "2. The catalog: an application, two environments, a workflow"
"$hoist" create application --name shop
"$hoist" create environment --name staging
"$hoist" create environment --name prod --production=true
"$hoist" apply -f "$here/workflow.yaml"

step "3. People: dev builds and promotes, lead approves promotions and deployments"
"$hoist" create user --email dev@example.com --name Dev
"$hoist" grant role --email dev@example.com --role BUILD_DEPLOY --application shop
"$hoist" create user --email lead@example.com --name Lead
"$hoist" grant role --email lead@example.com --role ARTIFACT_PROMOTER --application shop \
  --environment prod
"$hoist" grant role --email lead@example.com --role DEPLOYMENT_APPROVER --application shop \
  --environment prod
dev_token="$("$hoist" create token --name laptop --email dev@example.com | tail -n 1)"
lead_token="$("$hoist" create token --name laptop --email lead@example.com | tail -n 1)"

step "4. A promotion policy for prod: 1.x releases only, one approval"
"$hoist" create imagePromotionPolicy --name hotfix --approverCount 1 \
  --passCondition 'containerImageTag.startsWith("1.")' --failCondition '"rc" in imageLabels' \
  --applyPath "$here/policy.yaml"
# Policies change too: each update is a new version (--ifVersion refuses a stale edit).
"$hoist" update imagePromotionPolicy --name hotfix --description "Hotfixes straight to prod"

step "5. CI registers an image (as dev; a CI system would use a CI identity's token)"
image="$(HOIST_TOKEN=$dev_token "$hoist" register image --application shop --workflow main \
  --image registry.example.com/shop:1.4.2 --label stable -o id)"
echo "image $image"

step "6. dev promotes it from CI straight to prod, skipping staging"
request="$(HOIST_TOKEN=$dev_token "$hoist" promote --image "$image" --source CI --to prod \
  --comment "hotfix for checkout" -o id)"
echo "request $request"

step "7. lead sees it waiting and approves; a worker then promotes it"
HOIST_TOKEN=$lead_token "$hoist" get requests --pending
HOIST_TOKEN=$lead_token "$hoist" approve "$request" --comment "go"
HOIST_TOKEN=$dev_token "$hoist" wait request "$request" --for PROMOTED --timeout 60

step "8. prod's own rule: an Image Deployment Approval by someone who did not build it"
HOIST_TOKEN=$lead_token "$hoist" approve --image "$image" --application shop --environment prod

step "9. dev deploys, and the history shows where the image came from"
HOIST_TOKEN=$dev_token "$hoist" deploy --application shop --environment prod --image "$image"
HOIST_TOKEN=$dev_token "$hoist" get history --application shop --environment prod
