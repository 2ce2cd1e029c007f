// The wire types of the bridge protocol, mirroring the Go package `protocol`
// (the authority; see protocol/PROTOCOL.md at the repository root).
//
// Every property has a default so that Gson, which lsp4j uses, can build an
// instance through the no-argument constructor: a field the server leaves out
// then keeps its default instead of becoming a null behind a non-null type.
// Optional request fields are nullable and null by default, so they are left
// out of the JSON the client sends.
package dev.pitlane.core

import com.google.gson.JsonElement
import com.google.gson.JsonObject
import java.time.Instant
import java.time.OffsetDateTime
import java.time.format.DateTimeParseException

/** Method names, protocol version and error codes of the bridge protocol. */
object Protocol {
    /** The protocol version this client speaks (2: actions, ports, following logs). */
    const val VERSION = 2

    /** The client name reported in initialize (the telemetry client attribute). */
    const val CLIENT_NAME = "jetbrains"

    const val INITIALIZE = "initialize"
    const val SHUTDOWN = "shutdown"
    const val EXIT = "exit"
    const val WORKSPACE_LIST = "workspace/list"
    const val WORKSPACE_CREATE = "workspace/create"
    const val WORKSPACE_START = "workspace/start"
    const val WORKSPACE_STOP = "workspace/stop"
    const val WORKSPACE_DELETE = "workspace/delete"
    const val WORKSPACE_REBUILD = "workspace/rebuild"
    const val WORKSPACE_OPEN = "workspace/open"
    const val WORKSPACE_LOGS = "workspace/logs"
    const val WORKSPACE_CONFIGS = "workspace/configs"
    const val WORKSPACE_DETECT = "workspace/detect"
    const val WORKSPACE_PORTS = "workspace/ports"
    const val WORKSPACE_FORWARD_PORT = "workspace/forwardPort"
    const val WORKSPACE_STOP_FORWARDING = "workspace/stopForwarding"
    const val WORKSPACE_UNFOLLOW_LOGS = "workspace/unfollowLogs"
    /** Lists the engines workspaces can run on; servers without providers answer MethodNotFound. */
    const val PROVIDER_LIST = "provider/list"
    const val TELEMETRY_SET_CONSENT = "telemetry/setConsent"

    const val CANCEL_REQUEST = "$/cancelRequest"
    const val DID_CHANGE = "workspace/didChange"
    const val PROGRESS = "$/progress"
    const val LOG_MESSAGE = "window/logMessage"
    const val SHOW_MESSAGE = "window/showMessage"
    const val PORTS_CHANGED = "workspace/portsChanged"
    const val LOG_APPENDED = "workspace/logAppended"
}

/**
 * The names in [Workspace.actions]: what the bridge says a workspace's state
 * allows now. Menus are built from that list alone.
 */
object Actions {
    const val OPEN = "open"
    const val START = "start"
    const val STOP = "stop"
    const val REBUILD = "rebuild"
    const val DELETE = "delete"
    const val LOGS = "logs"
    const val PORTS = "ports"
    /** The create, start or rebuild this bridge runs for the workspace can be cancelled. */
    const val CANCEL = "cancel"
}

/** Error codes of bridge responses; codes from 1000 up are Pitlane's own. */
object ErrorCodes {
    const val PARSE_ERROR = -32700
    const val INVALID_REQUEST = -32600
    const val METHOD_NOT_FOUND = -32601
    const val INVALID_PARAMS = -32602
    const val INTERNAL_ERROR = -32603
    const val SERVER_NOT_INITIALIZED = -32002
    const val REQUEST_CANCELLED = -32800

    const val INVALID_NAME = 1001
    const val NOT_FOUND = 1002
    const val NAME_TAKEN = 1003
    const val BUSY = 1004
    const val HOOK_FAILED = 1005
    const val ENGINE_DOWN = 1006
    const val SOURCE_INVALID = 1007
    const val UNSUPPORTED_IDE = 1008
    const val UNSUPPORTED_VERSION = 1009
    /** The configuration asks for access to this machine; [BridgeException.trust] lists it. */
    const val TRUST_REQUIRED = 1010
    /** A delete would lose work; [BridgeException.unsaved] lists it. */
    const val UNSAVED_WORK = 1011
}

/** A workspace's life-cycle state. [wire] is the string on the wire. */
enum class WorkspaceState(val wire: String) {
    CREATING("creating"),
    RUNNING("running"),
    STOPPED("stopped"),
    ERROR("error"),
    DELETING("deleting"),
    /** A create or rebuild stopped before its setup finished; start or create finishes it. */
    INTERRUPTED("interrupted"),
    UNKNOWN("");

    companion object {
        /** The state for a wire string; [UNKNOWN] for one this client does not know. */
        fun of(wire: String?): WorkspaceState = entries.firstOrNull { it.wire == wire && it != UNKNOWN } ?: UNKNOWN
    }
}

data class ClientInfo(val name: String = "", val version: String? = null)

data class ServerInfo(val name: String = "", val version: String? = null)

data class InitializeParams(
    val protocolVersion: Int = Protocol.VERSION,
    val clientInfo: ClientInfo = ClientInfo(Protocol.CLIENT_NAME),
)

data class InitializeResult(
    val protocolVersion: Int = 0,
    val serverInfo: ServerInfo = ServerInfo(),
    /** The values workspace/open and workspace/create accept in "ide". */
    val ides: List<String>? = null,
)

data class Source(
    /** The git URL, or the absolute path of a local folder. */
    val url: String = "",
    /** The checked-out branch; null for the default branch or a local folder. */
    val ref: String? = null,
    /** True when [url] is a local folder mounted in place. */
    val local: Boolean = false,
)

/** A workspace as the bridge reports it. Workspaces are keyed by [name]. */
data class Workspace(
    /** The container id; empty while the container does not exist yet. */
    val id: String = "",
    val name: String = "",
    /** The state as sent; see [stateValue]. */
    val state: String = "",
    val source: Source = Source(),
    val sshHost: String = "",
    /** The workspace folder inside the container. */
    val folder: String = "",
    /** The folder on this machine mounted into the container. */
    val localFolder: String? = null,
    val image: String = "",
    val configKind: String? = null,
    val configPath: String? = null,
    /** RFC 3339 time; see [createdAtInstant]. */
    val createdAt: String? = null,
    /** RFC 3339 time, absent if never used; see [lastUsedAtInstant]. */
    val lastUsedAt: String? = null,
    val ports: List<Int>? = null,
    val lastError: String? = null,
    /** What the state allows now, in the bridge's order (names of [Actions]); null from a version 1 bridge. */
    val actions: List<String>? = null,
    /** The provider it runs on; null or empty for the default (Docker on this machine). */
    val provider: String? = null,
) {
    val stateValue: WorkspaceState get() = WorkspaceState.of(state)

    /** True when [action] (one of [Actions]) is in [actions]. */
    fun allows(action: String): Boolean = actions.orEmpty().contains(action)
    val createdAtInstant: Instant? get() = parseTime(createdAt)
    val lastUsedAtInstant: Instant? get() = parseTime(lastUsedAt)
}

/** Parses an RFC 3339 time as Go writes it; null for absent, unparsable or Go's zero time. */
internal fun parseTime(s: String?): Instant? {
    if (s.isNullOrEmpty()) return null
    val t = try {
        OffsetDateTime.parse(s).toInstant()
    } catch (e: DateTimeParseException) {
        return null
    }
    return if (t.epochSecond <= GO_ZERO_TIME_SECONDS) null else t
}

// 0001-01-01T00:00:00Z, Go's zero time.Time.
private const val GO_ZERO_TIME_SECONDS = -62135596800L

data class ListResult(val workspaces: List<Workspace>? = null)

data class CreateParams(
    val source: String = "",
    val branch: String? = null,
    val name: String? = null,
    val configPath: String? = null,
    /** If set, the result carries how to open the new workspace in this IDE. */
    val ide: String? = null,
    /** Set by [BridgeClient] when progress is wanted. */
    val workDoneToken: String? = null,
    /** The dotfiles to install; null: the user's saved default. */
    val dotfiles: Dotfiles? = null,
    /** True once the user accepted what the configuration asks (see [ErrorCodes.TRUST_REQUIRED]). */
    val trust: Boolean? = null,
    /** The provider to create on (a [ProviderInfo.name]); null for the default. */
    val provider: String? = null,
)

/** A dotfiles repository and its install script (null: the usual names, else links). */
data class Dotfiles(val repository: String = "", val script: String? = null)

data class CreateResult(val workspace: Workspace = Workspace(), val open: OpenResult? = null)

data class NameParams(val name: String = "")

data class StartParams(val name: String = "", val workDoneToken: String? = null, val trust: Boolean? = null)

data class RebuildParams(val name: String = "", val workDoneToken: String? = null, val trust: Boolean? = null)

/** [discardChanges]: delete even if the clone holds work found nowhere else (see [ErrorCodes.UNSAVED_WORK]). */
data class DeleteParams(val name: String = "", val discardChanges: Boolean? = null)

data class WorkspaceResult(val workspace: Workspace = Workspace())

data class OpenParams(val name: String = "", val ide: String? = null)

data class OpenResult(
    val ide: String = "",
    /** A URL the IDE handles (a jetbrains-gateway:// URL, a vscode-remote:// URI). */
    val uri: String? = null,
    /** A command line (argv) that opens the workspace, when there is no [uri]. */
    val command: List<String>? = null,
    val sshHost: String = "",
    val folder: String = "",
)

/** [follow]: keep sending appended lines as workspace/logAppended until workspace/unfollowLogs. */
data class LogsParams(val name: String = "", val tail: Int? = null, val follow: Boolean? = null)

data class LogsResult(
    /** The log file on this machine. */
    val path: String = "",
    val lines: List<String>? = null,
    val truncated: Boolean = false,
    /** Names the follow when the request asked to follow. */
    val followId: String? = null,
)

/** Lines appended to a followed log, oldest first. */
data class LogAppendedParams(val followId: String = "", val name: String = "", val lines: List<String>? = null)

data class UnfollowLogsParams(val followId: String = "")

/** Why a port is listed: [Port.source]. */
object PortSources {
    const val FORWARD_PORTS = "forwardPorts"
    const val APP_PORT = "appPort"
    const val DETECTED = "detected"
}

/** One port of a workspace. */
data class Port(
    /** The port inside the container. */
    val port: Int = 0,
    /** The configuration's portsAttributes label, if any. */
    val label: String? = null,
    /** One of [PortSources]. */
    val source: String = "",
    val protocol: String = "",
    /** Set while this bridge forwards the port. */
    val forwarded: Forwarded? = null,
)

/** Where a forwarded port is reached on this machine. */
data class Forwarded(val localPort: Int = 0, val url: String = "")

data class PortsResult(val ports: List<Port>? = null)

/** [localPort]: null or 0 for the same number when free, else any free one. */
data class ForwardPortParams(val name: String = "", val port: Int = 0, val localPort: Int? = null)

/** The forwarded port; [message] says what differs from what was asked ("local port 3000 is busy; forwarded to 3001"). */
data class ForwardPortResult(
    val port: Int = 0,
    val label: String? = null,
    val source: String = "",
    val protocol: String = "",
    val forwarded: Forwarded? = null,
    val message: String? = null,
) {
    fun toPort() = Port(port, label, source, protocol, forwarded)
}

data class StopForwardingParams(val name: String = "", val port: Int = 0)

/** All of a workspace's ports, after a forward started or stopped or the listening ports changed. */
data class PortsChangedParams(val name: String = "", val ports: List<Port>? = null)

/** An engine workspaces can run on. */
data class ProviderInfo(
    val name: String = "",
    /** "docker", "kubernetes", ... */
    val kind: String = "",
    val default: Boolean = false,
    val description: String? = null,
)

data class ProviderListResult(val providers: List<ProviderInfo>? = null)

data class ConfigsParams(val source: String = "")

data class ConfigsResult(val configs: List<String>? = null)

data class DetectParams(val source: String = "", val files: Boolean = false)

/** What create would use for a source; [message] is the sentence to show before create. */
data class DetectResult(
    /** "devcontainer", "dockerfile", "detected" or "default". */
    val kind: String = "",
    val configPath: String? = null,
    /** The detected setup ("Go 1.24 + PostgreSQL") for kind "detected". */
    val summary: String? = null,
    val message: String = "",
    val stacks: List<DetectedStack>? = null,
    val services: List<String>? = null,
    val test: String? = null,
    val warnings: List<String>? = null,
    val files: Map<String, String>? = null,
)

data class DetectedStack(val language: String = "", val dir: String = "", val version: String? = null, val file: String = "")

data class SetConsentParams(val enabled: Boolean = false, val ideTelemetryEnabled: Boolean = false)

data class SetConsentResult(val effective: Boolean = false)

/** What happened in a workspace/didChange. */
object ChangeKinds {
    const val CREATED = "created"
    const val CREATE_FAILED = "createFailed"
    const val STARTED = "started"
    const val STOPPED = "stopped"
    const val DELETED = "deleted"
    const val CHANGED = "changed"
}

data class DidChangeParams(
    val name: String = "",
    /** One of [ChangeKinds]; other values may come from newer servers. */
    val kind: String = "",
    /** True when the workspace no longer exists; [workspace] is then null. */
    val removed: Boolean = false,
    val workspace: Workspace? = null,
)

/** The params of `$/progress`: [value] is a begin, report or end object. */
data class ProgressParams(val token: JsonElement? = null, val value: JsonObject? = null)

data class CancelParams(val id: JsonElement? = null)

data class LogMessageParams(val type: Int = MessageType.LOG, val message: String = "")

data class ShowMessageParams(val type: Int = MessageType.INFO, val message: String = "")

/** The LSP message types of window/logMessage and window/showMessage. */
object MessageType {
    const val ERROR = 1
    const val WARNING = 2
    const val INFO = 3
    const val LOG = 4
}

/** The data of an error response with a Pitlane code. */
data class ErrorData(
    val workspace: String? = null,
    /** Set with [ErrorCodes.TRUST_REQUIRED]. */
    val trust: TrustRequest? = null,
    /** Set with [ErrorCodes.UNSAVED_WORK]. */
    val unsaved: UnsavedWork? = null,
)

/**
 * What a workspace's configuration would do on this machine or with
 * host-level access. Show it; if the user agrees, send the same request
 * again with trust.
 */
data class TrustRequest(
    val source: String = "",
    /** The devcontainer.json asking, relative to the source. */
    val configPath: String? = null,
    /** In the order they would take effect. */
    val items: List<TrustItem>? = null,
)

/** One thing that needs trust: [kind] ("initializeCommand", "privileged", "bindMount", ...), [detail], and [from] who asks. */
data class TrustItem(val kind: String = "", val detail: String = "", val from: String? = null)

/** The work a delete would lose: in the clone and nowhere else. */
data class UnsavedWork(
    /** The clone's folder on this machine. */
    val clone: String = "",
    /** Uncommitted changes, one `git status --short` line each. */
    val changes: List<String>? = null,
    val stashes: Int = 0,
    /** Commits on no remote, one `git log --oneline` line each. */
    val unpushed: List<String>? = null,
    /** One sentence for a dialog. */
    val summary: String = "",
)
