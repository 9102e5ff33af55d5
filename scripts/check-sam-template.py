#!/usr/bin/env python3
"""The deploy path, checked without an AWS account: template.yaml through the SAM transform.

    python3 scripts/check-sam-template.py          (run by .ci/run)

CloudFormation runs AWS::LanguageExtensions before AWS::Serverless-2016-10-31, and samtranslator
does not do the former. So this script expands the template's Fn::ForEach itself (the subset the
template uses: a collection that is a CommaDelimitedList parameter or a literal list, `&{Id}` /
`${Id}` in the resource key, `${Id}` in Fn::Sub strings and `Ref: Id`), then runs samtranslator's
transform with the replicated buckets of drbot.config.example.yaml, and asserts what a deploy
depends on: the durable function's version and `live` alias (republished on configuration
changes), every alarm, and the IAM actions each function gets. Any failed assertion exits 1.
"""

from __future__ import annotations

import copy
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import yaml
from cfnlint.decode import decode_str
from samtranslator.translator.transform import transform

ROOT = Path(__file__).resolve().parent.parent
FAILURES: list[str] = []


def check(ok: bool, what: str) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        FAILURES.append(what)


# ---- loading and Fn::ForEach ------------------------------------------------------------------


def plain(node: Any) -> Any:
    """cfn-lint's decoder (it knows the short-form intrinsics) to plain dicts, lists and strings."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def load_template() -> dict[str, Any]:
    text = (ROOT / "template.yaml").read_text()
    decoded, matches = decode_str(text)
    if matches or decoded is None:
        sys.exit(f"template.yaml does not parse: {matches}")
    return plain(decoded)


def substitute(node: Any, ident: str, value: str) -> Any:
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] == ident:
            return value
        out = {}
        for k, v in node.items():
            if k == "Fn::Sub":
                v = v.replace("${" + ident + "}", value) if isinstance(v, str) else [v[0].replace("${" + ident + "}", value), substitute(v[1], ident, value)]
                out[k] = v
            else:
                out[k] = substitute(v, ident, value)
        return out
    if isinstance(node, list):
        return [substitute(v, ident, value) for v in node]
    return node


def expand_for_each(template: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(template)
    resources: dict[str, Any] = {}
    for key, body in template["Resources"].items():
        if not key.startswith("Fn::ForEach::"):
            resources[key] = body
            continue
        ident, collection, fragment = body
        if isinstance(collection, dict) and set(collection) == {"Ref"}:
            raw = params.get(collection["Ref"], template["Parameters"][collection["Ref"]].get("Default"))
            values = raw if isinstance(raw, list) else [v.strip() for v in str(raw).split(",")]
        elif isinstance(collection, list):
            values = collection
        else:
            sys.exit(f"{key}: collection {collection!r} is outside the subset this check expands")
        for value in values:
            for out_key, res in fragment.items():
                logical = out_key.replace("&{" + ident + "}", re.sub(r"[^A-Za-z0-9]", "", value)).replace("${" + ident + "}", value)
                if logical in resources:
                    check(False, f"{key}: {logical} is not unique")
                resources[logical] = substitute(res, ident, value)
    # What `sam package` / `sam deploy` do: local CodeUri -> the uploaded artifact's S3 URI.
    for res in resources.values():
        if res.get("Type") == "AWS::Serverless::Function" and res["Properties"].get("CodeUri") == ".":
            res["Properties"]["CodeUri"] = "s3://drbot-ci-artifacts/0123456789abcdef"
    out["Resources"] = resources
    out["Transform"] = [t for t in template["Transform"] if t != "AWS::LanguageExtensions"]
    return out


class NoManagedPolicies:
    """The template names no AWS managed policy by name; SAM's own (basic execution, X-Ray) are ARNs."""

    def load(self) -> dict[str, str]:
        return {}


def sam(template: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    values = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws", **params}
    return transform(expand_for_each(template, params), values, NoManagedPolicies())


# ---- what the transformed template must hold -----------------------------------------------------


def of_type(cfn: dict[str, Any], t: str) -> dict[str, Any]:
    return {k: v for k, v in cfn["Resources"].items() if v["Type"] == t}


# Actions allowed on Resource '*', each with why AWS gives it no narrower resource.
UNSCOPED = {
    "dynamodb:ListBackups": "lists the account's backups; IAM defines no resource type for it",
    "xray:PutTraceSegments": "X-Ray tracing of the functions; no resource type",
    "xray:PutTelemetryRecords": "X-Ray tracing of the functions; no resource type",
    "iam:GetAccountAuthorizationDetails": "the IAM export reads the account's roles and policies in pages; no resource type",
    "iam:ListRoles": "listing roles takes no resource ARN in IAM's policy reference",
    "backup:ListBackupPlans": "AWS Backup lists plans with no resource",
    "backup:DescribeBackupJob": "backup jobs have no resource ARN in IAM's policy reference",
    "backup-storage:MountCapsule": "AWS Backup's own storage call; no resource",
    "ec2:DescribeImages": "EC2 Describe* calls support no resource-level permissions",
    "ec2:DescribeInstances": "EC2 Describe* calls support no resource-level permissions (the drill finds its instance by tag)",
    "ec2:DescribeInstanceStatus": "EC2 Describe* calls support no resource-level permissions (/dr failover watches its instances' status checks)",
    "cloudwatch:GetMetricData": "metrics are not IAM resources",
    "kms:CreateGrant": "AWS Backup's key, bound by kms:ViaService backup.*.amazonaws.com instead of an ARN",
    "kms:DescribeKey": "AWS Backup's key, bound by kms:ViaService",
    "kms:GenerateDataKey": "AWS Backup's key, bound by kms:ViaService",
    "kms:Decrypt": "AWS Backup's key, bound by kms:ViaService",
    "kms:RetireGrant": "AWS Backup's key, bound by kms:ViaService",
    # /dr compromise
    "cloudtrail:LookupEvents": "CloudTrail's event history of the account and region; LookupEvents has no resource type",
    "ec2:DescribeInstances": "EC2 Describe* calls support no resource-level permissions",
}


def policy_actions(resource: dict[str, Any]) -> set[str]:
    """Every action of an inline or managed policy a resource carries (roles, managed policies, bucket policies)."""
    props = resource.get("Properties", {}) if isinstance(resource, dict) else {}
    docs = [p.get("PolicyDocument", {}) for p in props.get("Policies", []) if isinstance(p, dict)]
    if isinstance(props.get("PolicyDocument"), dict):
        docs.append(props["PolicyDocument"])
    acts: set[str] = set()
    for d in docs:
        st = d.get("Statement", [])
        acts |= actions_of(st if isinstance(st, list) else [st])
    return {a for a in acts if isinstance(a, str)}


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    acts: set[str] = set()
    for st in statements:
        a = st.get("Action", [])
        acts.update([a] if isinstance(a, str) else a)
    return acts


def role_actions(cfn: dict[str, Any], role: str) -> set[str]:
    res = cfn["Resources"]
    acts: set[str] = set()
    for p in res[role]["Properties"].get("Policies", []):
        acts |= actions_of(p["PolicyDocument"]["Statement"])
    for name, r in of_type(cfn, "AWS::IAM::ManagedPolicy").items():
        if {"Ref": role} in r["Properties"].get("Roles", []):
            acts |= actions_of(r["Properties"]["PolicyDocument"]["Statement"])
    return acts


def role_statements(cfn: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """Every statement of the role's inline policies and of the managed policies attached to it."""
    res = cfn["Resources"]
    out: list[dict[str, Any]] = []
    for p in res[role]["Properties"].get("Policies", []):
        st = p["PolicyDocument"]["Statement"]
        out += st if isinstance(st, list) else [st]
    for r in of_type(cfn, "AWS::IAM::ManagedPolicy").values():
        if {"Ref": role} in r["Properties"].get("Roles", []):
            st = r["Properties"]["PolicyDocument"]["Statement"]
            out += st if isinstance(st, list) else [st]
    return out


# /dr compromise --lock attaches this AWS managed policy, and the runbook role may attach no other.
DENY_ALL_ARNS = ({"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSDenyAll"}, "arn:aws:iam::aws:policy/AWSDenyAll")


def user_policy_problems(cfn: dict[str, Any], role: str = "RunbookRole") -> list[str]:
    """
    Why the role could write or attach a policy of its choosing onto a user (empty: it cannot).
    iam:AttachUserPolicy only in statements of that one action with exactly the condition
    ArnEquals iam:PolicyARN = AWSDenyAll; no PutUserPolicy; no NotAction (it would allow the rest).
    """
    problems: list[str] = []
    for st in role_statements(cfn, role):
        if st.get("Effect") != "Allow":
            continue
        sid = st.get("Sid", "?")
        if "NotAction" in st:
            problems.append(f"{sid}: an Allow with NotAction")
        acts = actions_of([st])
        if "iam:PutUserPolicy" in acts:
            problems.append(f"{sid}: iam:PutUserPolicy (writes any policy onto a user)")
        if "iam:AttachUserPolicy" not in acts:
            continue
        if acts != {"iam:AttachUserPolicy"}:
            problems.append(f"{sid}: iam:AttachUserPolicy shares its statement with {sorted(acts - {'iam:AttachUserPolicy'})}")
        cond = st.get("Condition")
        arn = (cond or {}).get("ArnEquals", {}).get("iam:PolicyARN") if isinstance(cond, dict) and set(cond) == {"ArnEquals"} and set(cond["ArnEquals"]) == {"iam:PolicyARN"} else None
        if isinstance(arn, list) and len(arn) == 1:
            arn = arn[0]
        if arn not in DENY_ALL_ARNS:
            problems.append(f"{sid}: iam:AttachUserPolicy without exactly the condition ArnEquals iam:PolicyARN = AWSDenyAll ({cond!r})")
    return problems


EXPECTED_ACTIONS = {
    "SlackFunction": {
        "secretsmanager:GetSecretValue",
        "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query",
        "lambda:InvokeFunction",
        "lambda:SendDurableExecutionCallbackSuccess", "lambda:SendDurableExecutionCallbackFailure",
    },
    "RunbookFunction": {
        "xray:PutTraceSegments", "xray:PutTelemetryRecords",
        "lambda:CheckpointDurableExecution", "lambda:GetDurableExecutionState",
        "logs:CreateLogStream", "logs:PutLogEvents",
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
        "secretsmanager:GetSecretValue",
        "s3:GetBucketVersioning", "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration", "s3:ListBucket", "s3:ListBucketVersions",
        "s3:GetObject", "s3:GetObjectTagging", "s3:PutObjectTagging", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObjectVersion",
        "dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:CreateBackup", "dynamodb:DescribeBackup", "dynamodb:ListBackups",
        "iam:GetAccountAuthorizationDetails", "iam:ListRoles",
        # /dr setup (S3 protections, the replication role, PITR, global-table replicas, AWS Backup) and --prune
        "s3:CreateBucket", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration", "s3:PutReplicationConfiguration",
        "s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock", "s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration",
        "iam:GetRole", "iam:CreateRole", "iam:TagRole", "iam:PutRolePolicy", "iam:PassRole", "iam:CreateServiceLinkedRole",
        "dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTable", "dynamodb:CreateTableReplica", "dynamodb:CreateTable",
        "dynamodb:Scan", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteBackup",
        "backup:DescribeBackupVault", "backup:CreateBackupVault", "backup:TagResource", "backup:ListBackupPlans",
        "backup:GetBackupPlan", "backup:CreateBackupPlan", "backup:UpdateBackupPlan",
        "backup:ListBackupSelections", "backup:GetBackupSelection", "backup:CreateBackupSelection", "backup:DeleteBackupSelection",
        # "Retry backup" on a failed AWS Backup job (src/runbooks/backup-job-retry)
        "backup:DescribeBackupJob", "backup:StartBackupJob",
        "backup-storage:MountCapsule", "kms:CreateGrant", "kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt", "kms:RetireGrant",
        # /dr backup amis, route53, lambda and the status rows that read their copies
        "ec2:DescribeImages", "ec2:CopyImage", "ec2:CreateTags",
        # --prune of AMI copies: deregister drbot's (tagged backup=true) and delete their snapshots
        "ec2:DeregisterImage", "ec2:DeleteSnapshot",
        "route53:GetHostedZone", "route53:ListResourceRecordSets",
        # /dr restore route53
        "route53:ChangeResourceRecordSets", "route53:GetChange",
        "lambda:GetFunction", "lambda:GetAlias", "lambda:ListAliases", "lambda:ListVersionsByFunction",
        # /dr restore iam (roles and policies named PREFIX*)
        "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies",
        "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
        "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:UntagRole",
        "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion",
        # /dr rollback lambda: the alias moved or split, and the canary's error metrics
        "lambda:UpdateAlias", "cloudwatch:GetMetricData",
        # /dr restore dynamodb (PITR or a backup, into <table>-restored-*), keep dynamodb, delete restored-table
        "dynamodb:RestoreTableToPointInTime", "dynamodb:RestoreTableFromBackup", "dynamodb:DescribeTimeToLive", "dynamodb:UpdateTimeToLive",
        "dynamodb:ListTagsOfResource", "dynamodb:TagResource", "dynamodb:GetResourcePolicy", "dynamodb:PutResourcePolicy",
        "dynamodb:BatchGetItem", "dynamodb:DeleteTable",
        # /dr cutover dynamodb (with Scan, BatchWriteItem, CreateBackup, DescribeBackup, ListBackups above)
        "dynamodb:ListTagsOfResource", "dynamodb:BatchGetItem",
        # /dr drill and /dr drill cleanup: its instance (launched tagged drbot-drill, terminated only
        # with that tag), canary objects and items, the PITR restore into <table>-drill-<run id>
        "ec2:RunInstances", "ec2:DescribeInstances", "ec2:TerminateInstances", "s3:DeleteObject",
        # /dr compromise: the user's keys (and --lock: AWSDenyAll attached, never an inline policy
        # written; --new-key), CloudTrail, instances listed and terminated
        "iam:GetUser", "iam:ListAccessKeys", "iam:UpdateAccessKey", "iam:ListAttachedUserPolicies", "iam:AttachUserPolicy",
        "iam:GetLoginProfile", "iam:DeleteLoginProfile", "iam:CreateAccessKey", "iam:DeleteAccessKey",
        "secretsmanager:DescribeSecret", "secretsmanager:CreateSecret", "secretsmanager:TagResource",
        "cloudtrail:LookupEvents", "ec2:DescribeInstances", "ec2:TerminateInstances",
        # /dr failover and /dr failback: instances from the AMI copies in the backup region (tagged at
        # launch, terminated only with drbot-failover), their status checks
        "ec2:DescribeInstanceStatus",
    },
    "AlarmFunction": {
        "secretsmanager:GetSecretValue",
        "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
        # EventInvokeConfig's OnFailure destination (the dead-letter queue)
        "sqs:SendMessage",
    },
}


def replicated_buckets() -> list[str]:
    config = yaml.safe_load((ROOT / "drbot.config.example.yaml").read_text())
    return [b["name"] for b in config["s3"]["buckets"] if b.get("replica")]


def metric_alarms(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in of_type(cfn, "AWS::CloudWatch::Alarm").items()}


def check_app(template: dict[str, Any], buckets: list[str]) -> None:
    params = {"DeployMode": "app", "ReplicatedBuckets": ",".join(buckets)}
    cfn = sam(template, params)
    res = cfn["Resources"]

    print("durable function, version and alias")
    fn = res["RunbookFunction"]
    props = fn["Properties"]
    check(fn["Type"] == "AWS::Lambda::Function", "RunbookFunction is an AWS::Lambda::Function")
    check(props.get("DurableConfig", {}).get("ExecutionTimeout") == {"Ref": "RunbookExecutionTimeout"}, "DurableConfig.ExecutionTimeout is the RunbookExecutionTimeout parameter")
    env = props.get("Environment", {}).get("Variables", {})
    check(env.get("DRBOT_EXECUTION_TIMEOUT_SECONDS") == {"Ref": "RunbookExecutionTimeout"}, "the runbook function is told its execution timeout (DRBOT_EXECUTION_TIMEOUT_SECONDS)")
    slack_env = res["SlackFunction"]["Properties"].get("Environment", {}).get("Variables", {})
    check(slack_env.get("DRBOT_EXECUTION_TIMEOUT_SECONDS") == {"Ref": "RunbookExecutionTimeout"}, "the Slack function is told it too (checks the config at start)")
    versions = of_type(cfn, "AWS::Lambda::Version")
    check(len(versions) == 1 and next(iter(versions)).startswith("RunbookFunctionVersion"), f"one published version of RunbookFunction ({sorted(versions)})")
    version_id = next(iter(versions), "")
    alias = res.get("RunbookFunctionAliaslive", {})
    check(alias.get("Type") == "AWS::Lambda::Alias" and alias["Properties"].get("Name") == "live", "alias RunbookFunctionAliaslive named live")
    check(alias.get("Properties", {}).get("FunctionVersion") == {"Fn::GetAtt": [version_id, "Version"]}, "the alias points at that version")
    invoke = [s for s in res["SlackFunctionRole"]["Properties"]["Policies"] for s in s["PolicyDocument"]["Statement"] if s.get("Sid") == "StartRunbooks"]
    check(bool(invoke) and invoke[0]["Resource"] == {"Ref": "RunbookFunctionAliaslive"}, "the Slack function may invoke only the live alias")
    check(slack_env.get("RUNBOOK_FUNCTION") == {"Ref": "RunbookFunctionAliaslive"}, "the Slack function starts runs on the live alias")

    # AutoPublishAliasAllProperties: a configuration change alone publishes a new version.
    for what, change in {
        "DurableConfig": lambda p: p["DurableConfig"].update(RetentionPeriodInDays=14),
        "Timeout": lambda p: p.update(Timeout=600),
        "MemorySize": lambda p: p.update(MemorySize=2048),
        "Environment": lambda p: p.setdefault("Environment", {}).setdefault("Variables", {}).update(EXTRA="1"),
    }.items():
        changed = copy.deepcopy(template)
        change(changed["Resources"]["RunbookFunction"]["Properties"])
        other = sorted(of_type(sam(changed, params), "AWS::Lambda::Version"))
        check(other != [version_id], f"a {what} change alone publishes a new version ({version_id} -> {other})")
    # ...which is the switch's doing: without it (SAM hashes only code, environment and memory)
    # a DurableConfig or Timeout change keeps the old version behind the alias.
    without = copy.deepcopy(template)
    without["Resources"]["RunbookFunction"]["Properties"].pop("AutoPublishAliasAllProperties", None)
    before = sorted(of_type(sam(without, params), "AWS::Lambda::Version"))
    without["Resources"]["RunbookFunction"]["Properties"]["DurableConfig"]["RetentionPeriodInDays"] = 14
    without["Resources"]["RunbookFunction"]["Properties"]["Timeout"] = 600
    check(sorted(of_type(sam(without, params), "AWS::Lambda::Version")) == before, "(control: without AutoPublishAliasAllProperties those changes would keep the version)")

    print("alarms")
    alarms = metric_alarms(cfn)
    for b in buckets:
        key = "ReplicationFailed" + re.sub(r"[^A-Za-z0-9]", "", b)
        a = alarms.get(key)
        check(a is not None, f"{key}: OperationsFailedReplication alarm for {b}")
        if a:
            expr = a["Metrics"][0]["Expression"]["Fn::Sub"]
            check(f"SourceBucket = '{b}'" in expr and "${Bucket}" not in expr, f"{key} watches SourceBucket {b}")
            check(a["AlarmActions"] == [{"Ref": "CriticalTopic"}] and a["OKActions"] == [{"Ref": "CriticalTopic"}], f"{key} notifies the critical topic (alarm and OK)")
            check(res[key].get("Condition") == "IsApp", f"{key} is in the app stack only")
        lag = "ReplicationLag" + re.sub(r"[^A-Za-z0-9]", "", b)
        check(res.get(lag, {}).get("Condition") == "IsBackupRegionAlarms", f"{lag}: ReplicationLatency alarm for {b}, backup-region stack only")
    for key, metric, topic in [
        ("RunbookFailedAlarm", "DurableExecutionFailed", "CriticalTopic"),
        ("RunbookTimedOutAlarm", "DurableExecutionTimedOut", "CriticalTopic"),
        ("RunbookErrorsAlarm", "Errors", "CriticalTopic"),
        ("AlarmFunctionErrorsAlarm", "Errors", "CriticalTopic"),
        ("SlackFunctionErrorsAlarm", "Errors", "AlertsTopic"),
    ]:
        a = alarms.get(key, {})
        check(a.get("Namespace") == "AWS/Lambda" and a.get("MetricName") == metric, f"{key}: AWS/Lambda {metric}")
        check(a.get("AlarmActions") == [{"Ref": topic}] and a.get("OKActions") == [{"Ref": topic}], f"{key} notifies {topic} (alarm and OK)")
    for key in ("RunbookFailedAlarm", "RunbookTimedOutAlarm"):
        dims = alarms.get(key, {}).get("Dimensions", [])
        check(dims == [{"Name": "FunctionName", "Value": {"Ref": "RunbookFunction"}}], f"{key} watches the runbook function")

    print("IAM actions per function")
    for fn_name, expected in EXPECTED_ACTIONS.items():
        role = res[fn_name]["Properties"]["Role"]["Fn::GetAtt"][0]
        got = role_actions(cfn, role)
        check(got == expected, f"{fn_name} ({role}) may do exactly its actions" + ("" if got == expected else f": extra {sorted(got - expected)}, missing {sorted(expected - got)}"))
    check("ManagedPolicyArns" not in res["RunbookRole"]["Properties"], "RunbookRole carries no managed policy (no account-wide checkpoint rights)")
    # IAM's default quota: 10 managed policies attached to a role (raisable to 20 by a quota request,
    # which a deploy cannot count on). A verb's policy beyond that fails the deploy, not this check.
    for role in of_type(cfn, "AWS::IAM::Role"):
        attached = [k for k, r in of_type(cfn, "AWS::IAM::ManagedPolicy").items() if {"Ref": role} in r["Properties"].get("Roles", [])]
        attached += res[role]["Properties"].get("ManagedPolicyArns", []) if role in res else []
        check(len(attached) <= 10, f"{role} has {len(attached)} managed policies attached (IAM's default quota is 10)")

    print("user policies: AWSDenyAll only")
    problems = user_policy_problems(cfn)
    check(not problems, f"RunbookRole writes no user policy and may attach AWSDenyAll only ({problems})")
    attach = [st for st in role_statements(cfn, "RunbookRole") if "iam:AttachUserPolicy" in actions_of([st])]
    check(len(attach) == 1 and attach[0].get("Condition") is not None, f"one iam:AttachUserPolicy statement, with its condition ({[st.get('Sid') for st in attach]})")
    # control: the same template with the condition dropped (or another ARN) fails this check
    for what, change in {
        "dropped": lambda st: st.pop("Condition", None),
        "another ARN": lambda st: st.update(Condition={"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}}),
        "widened to ArnLike": lambda st: st.update(Condition={"ArnLike": {"iam:PolicyARN": "arn:aws:iam::aws:policy/*"}}),
    }.items():
        loose = copy.deepcopy(cfn)
        for st in role_statements(loose, "RunbookRole"):
            if "iam:AttachUserPolicy" in actions_of([st]):
                change(st)
        check(bool(user_policy_problems(loose)), f"(control: the AttachUserPolicy condition {what} is caught)")
    keys = [st for st in role_statements(cfn, "RunbookRole") if actions_of([st]) & {"iam:CreateAccessKey", "iam:DeleteAccessKey"}]
    check(
        len(keys) == 1 and actions_of(keys) == {"iam:CreateAccessKey", "iam:DeleteAccessKey"} and keys[0].get("Resource") == {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*"},
        f"iam:CreateAccessKey and iam:DeleteAccessKey alone in one statement, on this account's users only ({[st.get('Sid') for st in keys]})",
    )
    stars = set()
    for role in ("SlackFunctionRole", "AlarmFunctionRole", "RunbookRole"):
        for p in res[role]["Properties"].get("Policies", []):
            for s in p["PolicyDocument"]["Statement"]:
                if s.get("Resource") == "*":
                    stars |= actions_of([s])
    for r in of_type(cfn, "AWS::IAM::ManagedPolicy").values():
        for s in r["Properties"]["PolicyDocument"]["Statement"]:
            if s.get("Resource") == "*":
                stars |= actions_of([s])
    check(set(stars) <= set(UNSCOPED), f"Resource '*' only where AWS allows no scoping: not allowed {sorted(set(stars) - set(UNSCOPED))}")
    # No wildcard action anywhere in the template: every policy names what it may do.
    wild = sorted({a for r in cfn["Resources"].values() for a in policy_actions(r) if a == "*" or a.endswith(":*")})
    check(not wild, f"no Action '*' or 'service:*' in any policy ({wild})")

    print("restored tables")
    deletes = [st for r in of_type(cfn, "AWS::IAM::ManagedPolicy").values() for st in r["Properties"]["PolicyDocument"]["Statement"] if "dynamodb:DeleteTable" in actions_of([st])]
    resources = [str(r) for st in deletes for r in (st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]])]
    check(bool(resources) and all("-restored-*" in r or "-drill-r-*" in r for r in resources), f"dynamodb:DeleteTable only on tables named like a restore or a drill's restore ({resources})")

    print("account limits and regions")
    rce = res["AlarmFunction"]["Properties"].get("ReservedConcurrentExecutions")
    check(rce == {"Fn::If": ["HasAlarmConcurrency", {"Ref": "AlarmReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}, "reserved concurrency only when AlarmReservedConcurrency is set")
    check(template["Parameters"].get("AlarmReservedConcurrency", {}).get("Default") == 0, "AlarmReservedConcurrency is off by default")
    for key in ("AlarmFunctionFromBackupAlerts", "AlarmFunctionFromBackupCritical"):
        principal = res[key]["Properties"]["Principal"]
        check(principal == {"Fn::If": ["BackupRegionIsOptIn", {"Fn::Sub": "sns.${BackupRegion}.amazonaws.com"}, "sns.amazonaws.com"]}, f"{key}: regional SNS principal for an opt-in backup region")


def check_backup_region(template: dict[str, Any], buckets: list[str]) -> None:
    print("backup-region-alarms stack")
    cfn = sam(template, {"DeployMode": "backup-region-alarms", "ReplicatedBuckets": ",".join(buckets), "PrimaryAlarmFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:x"})
    lag = {k: v for k, v in metric_alarms(cfn).items() if k.startswith("ReplicationLag")}
    check(len(lag) == len(buckets), f"{len(buckets)} ReplicationLatency alarm(s) ({sorted(lag)})")


def main() -> None:
    template = load_template()
    buckets = replicated_buckets()
    print(f"== SAM transform of template.yaml (replicated buckets of the example config: {', '.join(buckets)})")
    check(bool(buckets), "the example config has a replicated bucket")
    check_app(template, buckets)
    check_backup_region(template, buckets)
    # Several buckets expand to several alarms, with logical IDs that stay distinct.
    many = buckets + ["spawn-results-us-east-1", "spawn-binaries-us-west-2"]
    print(f"== again with {len(many)} buckets")
    check_app(template, many)
    if FAILURES:
        print(f"SAM template check FAILED: {len(FAILURES)} assertion(s)", file=sys.stderr)
        for f in FAILURES:
            print(f"  - {f}", file=sys.stderr)
        sys.exit(1)
    print("SAM template check passed")


if __name__ == "__main__":
    main()
