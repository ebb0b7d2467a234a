# Drives Flotilla's Marathon API with marathon-python (Debian's python3-marathon, the PyPI
# "marathon" client): every call a deploy script or dashboard makes, parsed into the client's own
# objects, whose constructors take exactly Marathon's fields (a field Marathon never sends fails
# them). Run by marathon-python.test.ts against real masters and an agent:
#   python3 marathon_python_check.py http://follower:port,http://leader:port
# Prints one line per step and "marathon-python: all checks passed" at the end; exits 1 with
# the step that failed otherwise.
import sys
import threading
import time

from marathon import MarathonClient
from marathon.exceptions import ConflictError, MarathonHttpError, NotFoundError
from marathon.models import MarathonApp, MarathonConstraint, MarathonHealthCheck

WAIT_SECONDS = 240
servers = sys.argv[1].split(',')
client = MarathonClient(servers, timeout=30)
events = []


def step(name, value=None):
    print(f'step: {name}' + ('' if value is None else f': {value}'), flush=True)


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def wait_for(predicate, what):
    deadline = time.time() + WAIT_SECONDS
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f'timed out waiting for {what}')


def steady(app_id, count):
    def settled():
        app = client.get_app(app_id)
        return app.tasks_running == count and app.tasks_healthy == count and not app.deployments
    wait_for(settled, f'{app_id} to run {count} healthy instances with no deployment')


def listen():
    try:
        for event in client.event_stream():
            events.append(event.event_type)
    except Exception as error:  # the stream ends with the process; a parse error is reported
        events.append(f'error: {error!r}')


def check_reads():
    check(client.ping() == b'pong', 'GET /ping answers pong')
    info = client.get_info()
    check(info.name == 'marathon' and info.elected is True and info.leader, f'GET /v2/info: {info}')
    check(client.get_leader() == {'leader': info.leader}, 'GET /v2/leader names the leader')
    step('ping, info, leader', info.leader)


def check_create():
    health = MarathonHealthCheck(protocol='COMMAND', command={'value': 'true'}, grace_period_seconds=30,
                                 interval_seconds=1, max_consecutive_failures=3, delay_seconds=0)
    app = MarathonApp(cmd='sleep 600', cpus=0.05, mem=16, instances=1, health_checks=[health],
                      constraints=[MarathonConstraint('hostname', 'GROUP_BY')], labels={'team': 'a'})
    created = client.create_app('/py/web', app)
    check(created.id == '/py/web' and created.instances == 1 and len(created.deployments) == 1, f'created {created}')
    check(created.backoff_factor == 1.15 and created.max_launch_delay_seconds == 300, 'Marathon defaults')
    steady('/py/web', 1)
    step('create', created.version)


def check_scale_and_tasks():
    answer = client.scale_app('/py/web', instances=2)
    check(set(answer) == {'deploymentId', 'version'}, f'a change answers deploymentId and version: {answer}')
    steady('/py/web', 2)
    apps = client.list_apps(embed_tasks=True, embed_counts=True, embed_deployments=True,
                            embed_last_task_failure=True)
    web = next(app for app in apps if app.id == '/py/web')
    check((web.tasks_running, web.tasks_healthy, web.tasks_staged, web.tasks_unhealthy) == (2, 2, 0, 0),
          f'counts of {web}')
    check(len(web.tasks) == 2, f'embed=app.tasks on /v2/apps embeds the tasks: {web.tasks}')
    for task in web.tasks:
        check(task.host and len(task.ports) == 1 and task.started_at and task.staged_at, f'task fields {task}')
        # A task keeps the version it was launched with; a scale stamps a new app version.
        check(task.version in client.list_versions('/py/web') and task.app_id == '/py/web'
              and task.state == 'TASK_RUNNING',
              f'task {task}')
        check(task.ip_addresses and task.ip_addresses[0].ip_address, f'ipAddresses of {task}')
        check(len(task.health_check_results) == 1 and task.health_check_results[0].alive, f'health of {task}')
    check([app.id for app in client.list_apps(label='team==a')] == ['/py/web'], 'label filter')
    check([app.id for app in client.list_apps(app_id='/py')] == ['/py/web'], 'id filter')
    check(len(client.list_tasks()) == 2 and len(client.list_tasks('/py/web')) == 2, 'GET /v2/tasks, app tasks')
    step('scale 1 -> 2, tasks', [task.id for task in web.tasks])


def check_versions_and_groups():
    versions = client.list_versions('/py/web')
    check(len(versions) == 2, f'two versions: {versions}')
    check(client.get_version('/py/web', versions[-1]).instances == 1, 'the first version had 1 instance')
    check([group.id for group in client.list_groups()] == ['/py'], 'the root group holds /py')
    check([app.id for app in client.get_group('/py').apps] == ['/py/web'], '/py holds /py/web')
    step('versions, groups', versions)


def check_restart_and_update():
    restart = client.restart_app('/py/web')
    deployments = wait_for(client.list_deployments, 'the restart deployment to be listed')
    deployment = deployments[0]
    check(deployment.id == restart['deploymentId'] and deployment.affected_apps == ['/py/web'], f'{deployment}')
    check(deployment.total_steps == 1 and deployment.current_step == 1, f'steps of {deployment}')
    check(deployment.steps[0].actions[0].action == 'RestartApplication', f'action of {deployment}')
    steady('/py/web', 2)
    fetched = client.get_app('/py/web')
    fetched.cmd = 'sleep 601'
    client.update_app('/py/web', fetched)  # GET, change, PUT: echoes ports beside portDefinitions
    steady('/py/web', 2)
    check(client.get_app('/py/web').cmd == 'sleep 601', 'the update took')
    client.update_apps([MarathonApp(id='/py/web', instances=1)])
    steady('/py/web', 1)
    step('restart, update, update_apps', deployment.id)


def check_kills():
    client.scale_app('/py/web', instances=2)
    steady('/py/web', 2)
    task = client.list_tasks('/py/web')[0]
    client.kill_task('/py/web', task.id, scale=True)
    steady('/py/web', 1)
    check(client.get_app('/py/web').instances == 1, 'kill with scale lowers instances')
    survivor = client.list_tasks('/py/web')[0]
    check(client.kill_given_tasks([survivor.id]) is True, 'POST /v2/tasks/delete')
    wait_for(lambda: survivor.id not in [each.id for each in client.list_tasks('/py/web')], 'the kill')
    steady('/py/web', 1)
    client.kill_tasks('/py/web')
    steady('/py/web', 1)
    step('kill_task scale, kill_given_tasks, kill_tasks')


def check_errors_and_queue():
    try:
        client.get_app('/py/none')
        raise AssertionError('an unknown app answered')
    except NotFoundError as error:
        check('does not exist' in error.error_message, f'404 message: {error.error_message}')
    try:
        client.create_app('/py/bad', MarathonApp(cmd='sleep 1', cpus=-1))
        raise AssertionError('a negative cpus was accepted')
    except MarathonHttpError as error:
        check(error.status_code == 422 and error.error_details[0]['path'] == '/cpus', f'422 {error.error_details}')
    client.create_app('/py/huge', MarathonApp(cmd='sleep 600', cpus=1000, mem=16, instances=1))
    queue = wait_for(lambda: [item for item in client.list_queue(embed_last_unused_offers=True)
                              if item.app.id == '/py/huge' and item.processed_offers_summary['processedOffersCount']],
                     '/py/huge in /v2/queue with an offer processed')
    reasons = {entry['reason']: entry['declined'] for entry in queue[0].processed_offers_summary['rejectSummaryLastOffers']}
    check(reasons.get('InsufficientCpus', 0) >= 1, f'why not placed: {reasons}')
    check(queue[0].last_unused_offers and 'InsufficientCpus' in queue[0].last_unused_offers[0]['reason'],
          'lastUnusedOffers')
    try:
        client.scale_app('/py/huge', instances=2)
        raise AssertionError('a locked app was changed')
    except ConflictError as error:
        check('locked' in error.error_message, f'409: {error.error_message}')
    forced = client.scale_app('/py/huge', instances=2, force=True)
    check(client.get_app('/py/huge').instances == 2, 'force=true overrides the lock')
    rollback = client.delete_deployment(forced['deploymentId'])
    check(set(rollback) == {'deploymentId', 'version'}, f'a rollback answers a deployment: {rollback}')
    wait_for(lambda: client.get_app('/py/huge').instances == 1, 'the rollback to 1 instance')
    for each in client.list_deployments():
        client.delete_deployment(each.id, force=True)
    wait_for(lambda: not client.list_deployments(), 'the cancel of every deployment')
    client.reset_delay('/py/huge')
    step('404, 422, queue with reasons, 409, force, rollback, cancel, reset delay', reasons)


def check_deletes():
    client.delete_app('/py/huge', force=True)
    client.delete_app('/py/web', force=True)
    wait_for(lambda: not client.list_apps(app_id='/py'), 'both apps gone')
    wait_for(lambda: not client.list_tasks(), 'no task left')
    wanted = {'event_stream_attached', 'api_post_event', 'deployment_info', 'deployment_step_success',
              'deployment_success', 'status_update_event', 'health_status_changed_event', 'app_terminated_event'}
    wait_for(lambda: wanted <= set(events), f'events {sorted(wanted - set(events))}')
    errors = [event for event in events if event.startswith('error')]
    check(not errors, f'the event stream parsed: {errors}')
    step('delete; events', sorted(set(events)))


def main():
    check_reads()
    threading.Thread(target=listen, daemon=True).start()
    wait_for(lambda: 'event_stream_attached' in events, 'the event stream to attach')
    for run in (check_create, check_scale_and_tasks, check_versions_and_groups, check_restart_and_update,
                check_kills, check_errors_and_queue, check_deletes):
        run()
    print('marathon-python: all checks passed', flush=True)


if __name__ == '__main__':
    try:
        main()
    except AssertionError as error:
        print(f'marathon-python: FAILED: {error}', flush=True)
        sys.exit(1)
