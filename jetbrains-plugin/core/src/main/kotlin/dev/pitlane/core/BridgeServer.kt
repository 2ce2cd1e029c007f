package dev.pitlane.core

import org.eclipse.lsp4j.jsonrpc.services.JsonNotification
import org.eclipse.lsp4j.jsonrpc.services.JsonRequest
import java.util.concurrent.CompletableFuture

/**
 * The requests and notifications the client sends, as lsp4j binds them to
 * JSON-RPC messages. Callers use [BridgeClient], which adds progress tokens,
 * error mapping and life-cycle handling on top.
 *
 * Cancelling a returned future sends `$/cancelRequest` for its request.
 */
interface BridgeServer {
    @JsonRequest(Protocol.INITIALIZE)
    fun initialize(params: InitializeParams): CompletableFuture<InitializeResult>

    @JsonRequest(Protocol.SHUTDOWN)
    fun shutdown(): CompletableFuture<Any?>

    @JsonNotification(Protocol.EXIT)
    fun exit()

    @JsonRequest(Protocol.WORKSPACE_LIST)
    fun list(): CompletableFuture<ListResult>

    @JsonRequest(Protocol.WORKSPACE_CREATE)
    fun create(params: CreateParams): CompletableFuture<CreateResult>

    @JsonRequest(Protocol.WORKSPACE_START)
    fun start(params: StartParams): CompletableFuture<WorkspaceResult>

    @JsonRequest(Protocol.WORKSPACE_STOP)
    fun stop(params: NameParams): CompletableFuture<WorkspaceResult>

    @JsonRequest(Protocol.WORKSPACE_DELETE)
    fun delete(params: DeleteParams): CompletableFuture<Any?>

    @JsonRequest(Protocol.WORKSPACE_REBUILD)
    fun rebuild(params: RebuildParams): CompletableFuture<WorkspaceResult>

    @JsonRequest(Protocol.WORKSPACE_OPEN)
    fun open(params: OpenParams): CompletableFuture<OpenResult>

    @JsonRequest(Protocol.WORKSPACE_LOGS)
    fun logs(params: LogsParams): CompletableFuture<LogsResult>

    @JsonRequest(Protocol.WORKSPACE_CONFIGS)
    fun configs(params: ConfigsParams): CompletableFuture<ConfigsResult>

    @JsonRequest(Protocol.WORKSPACE_DETECT)
    fun detect(params: DetectParams): CompletableFuture<DetectResult>

    @JsonRequest(Protocol.WORKSPACE_PORTS)
    fun ports(params: NameParams): CompletableFuture<PortsResult>

    @JsonRequest(Protocol.WORKSPACE_FORWARD_PORT)
    fun forwardPort(params: ForwardPortParams): CompletableFuture<ForwardPortResult>

    @JsonRequest(Protocol.WORKSPACE_STOP_FORWARDING)
    fun stopForwarding(params: StopForwardingParams): CompletableFuture<Any?>

    @JsonRequest(Protocol.WORKSPACE_UNFOLLOW_LOGS)
    fun unfollowLogs(params: UnfollowLogsParams): CompletableFuture<Any?>

    @JsonRequest(Protocol.PROVIDER_LIST)
    fun providerList(): CompletableFuture<ProviderListResult>

    @JsonRequest(Protocol.TELEMETRY_SET_CONSENT)
    fun setConsent(params: SetConsentParams): CompletableFuture<SetConsentResult>
}

/** The notifications the server sends, as lsp4j dispatches them. */
interface BridgeClientEndpoint {
    @JsonNotification(Protocol.DID_CHANGE)
    fun didChange(params: DidChangeParams)

    @JsonNotification(Protocol.PROGRESS)
    fun progress(params: ProgressParams)

    @JsonNotification(Protocol.LOG_MESSAGE)
    fun logMessage(params: LogMessageParams)

    @JsonNotification(Protocol.SHOW_MESSAGE)
    fun showMessage(params: ShowMessageParams)

    @JsonNotification(Protocol.PORTS_CHANGED)
    fun portsChanged(params: PortsChangedParams)

    @JsonNotification(Protocol.LOG_APPENDED)
    fun logAppended(params: LogAppendedParams)
}
