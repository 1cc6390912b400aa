/*
 * Mosquitto 2.0 plugin: a client id belongs to its user, and telemetry is
 * never retained. Loaded before the dynamic security plugin, which checks the
 * password and the ACL; this one only refuses, otherwise it defers.
 *
 * MQTT resumes (or kills) a session by client id alone, and Mosquitto 2.0.11
 * hands a persistent session to whoever presents its id, whatever the user.
 * So a client id must be the username itself or "<username><separator>...",
 * with a separator no username contains: namespaces of different users never
 * overlap, and nobody can take over or disconnect another user's session.
 *
 * Options (mosquitto.conf, all optional):
 *   plugin_opt_separator <char>          default ':'
 *   plugin_opt_no_retain<anything> <filter>  refuse retained publishes on topics
 *                                        matching the filter (one option each)
 * Build: gcc -fPIC -shared -O2 client-id-guard.c -o client-id-guard.so
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#define MAX_NO_RETAIN 16

static mosquitto_plugin_id_t *plugin_id;
static char separator = ':';
static char *no_retain[MAX_NO_RETAIN];
static int no_retain_count;

static bool owns_client_id(const char *username, const char *client_id)
{
	size_t n = strlen(username);
	if(n == 0 || strchr(username, separator)) return false;
	if(strncmp(client_id, username, n) != 0) return false;
	return client_id[n] == '\0' || (client_id[n] == separator && client_id[n + 1] != '\0');
}

static int on_basic_auth(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_basic_auth *ed = event_data;
	const char *client_id = mosquitto_client_id(ed->client);
	(void)event; (void)userdata;
	if(!ed->username || !client_id) return MOSQ_ERR_AUTH;
	if(owns_client_id(ed->username, client_id)) return MOSQ_ERR_PLUGIN_DEFER;
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "client-id-guard: refused client id '%s' for user '%s'", client_id, ed->username);
	return MOSQ_ERR_AUTH;
}

static int on_acl_check(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_acl_check *ed = event_data;
	(void)event; (void)userdata;
	if(ed->access != MOSQ_ACL_WRITE || !ed->retain) return MOSQ_ERR_PLUGIN_DEFER;
	for(int i = 0; i < no_retain_count; i++){
		bool match = false;
		if(mosquitto_topic_matches_sub(no_retain[i], ed->topic, &match) == MOSQ_ERR_SUCCESS && match){
			return MOSQ_ERR_ACL_DENIED;
		}
	}
	return MOSQ_ERR_PLUGIN_DEFER;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	(void)supported_version_count; (void)supported_versions;
	return 5;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *options, int option_count)
{
	(void)userdata;
	plugin_id = identifier;
	for(int i = 0; i < option_count; i++){
		if(!strcmp(options[i].key, "separator") && options[i].value && strlen(options[i].value) == 1){
			separator = options[i].value[0];
		}else if(!strncmp(options[i].key, "no_retain", 9) && options[i].value && no_retain_count < MAX_NO_RETAIN){
			no_retain[no_retain_count] = strdup(options[i].value);
			if(!no_retain[no_retain_count]) return MOSQ_ERR_NOMEM;
			no_retain_count++;
		}else{
			mosquitto_log_printf(MOSQ_LOG_ERR, "client-id-guard: unknown or invalid option %s", options[i].key);
			return MOSQ_ERR_INVAL;
		}
	}
	int rc = mosquitto_callback_register(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, NULL);
	if(rc) return rc;
	return mosquitto_callback_register(plugin_id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, NULL);
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	(void)userdata; (void)options; (void)option_count;
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
	for(int i = 0; i < no_retain_count; i++) free(no_retain[i]);
	no_retain_count = 0;
	return MOSQ_ERR_SUCCESS;
}
