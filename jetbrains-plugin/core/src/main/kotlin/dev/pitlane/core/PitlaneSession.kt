package dev.pitlane.core

import java.nio.file.Path
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList

/** Where the session's connection to the bridge stands. */
sealed class SessionStatus {
    object Stopped : SessionStatus()

    object Starting : SessionStatus()

    data class Ready(val info: InitializeResult) : SessionStatus()

    /** The bridge could not be started or ended unexpectedly; [message] says what to do. */
    data class Failed(val message: String) : SessionStatus()
}

/** How the session starts the bridge and what it tells it. */
class SessionOptions(
    /** Finds the binary each time the bridge is started (the setting may change); null when there is none. */
    val binary: () -> Path?,
    /** The message for a missing binary. */
    val binaryMissing: () -> String = { PitlaneBinary.notFoundMessage(null) },
    /** Added to the bridge's environment. */
    val environment: Map<String, String> = emptyMap(),
    /** The plugin's version, sent in initialize. */
    val clientVersion: String? = null,
    /** The plugin's telemetry setting and the IDE's own switch, sent after initialize. */
    val consent: () -> Pair<Boolean, Boolean> = { false to false },
    /** Receives the bridge's stderr and window/logMessage lines. */
    val log: (String) -> Unit = {},
    /** Receives window/showMessage notifications. */
    val show: (type: Int, message: String) -> Unit = { _, _ -> },
    val tap: MessageTap? = null,
)

/**
 * One IDE's connection to Pitlane: starts `pitlane bridge` on first use (and
 * again after it ended), initializes it, passes the telemetry consent, and
 * keeps [model] current from list answers, change notifications and the
 * results of its own calls. Everything the IDE glue does goes through here.
 *
 * Every call returns a future that can be cancelled; cancelling it cancels
 * the request on the bridge.
 */
class PitlaneSession(private val options: SessionOptions) : AutoCloseable {
    val model = WorkspaceListModel()

    private val lock = Any()
    private var process: BridgeProcess? = null
    private var ready: CompletableFuture<BridgeClient>? = null
    private val statusListeners = CopyOnWriteArrayList<(SessionStatus) -> Unit>()
    // The create, start or rebuild this session runs for a workspace, for its "cancel" action.
    private val running = ConcurrentHashMap<String, CompletableFuture<*>>()
    // Creates without a name: the bridge derives it, so they are found by elimination.
    private val unnamed = ConcurrentHashMap.newKeySet<CompletableFuture<*>>()

    @Volatile
    var status: SessionStatus = SessionStatus.Stopped
        private set

    fun addStatusListener(l: (SessionStatus) -> Unit): AutoCloseable {
        statusListeners += l
        return AutoCloseable { statusListeners -= l }
    }

    /** The initialized client, starting the bridge if it is not running. */
    fun client(): CompletableFuture<BridgeClient> {
        synchronized(lock) {
            ready?.let { f -> if (!f.isCompletedExceptionally && process?.isAlive != false) return f }
            stopLocked()
            val binary = options.binary()
            if (binary == null) {
                val msg = options.binaryMissing()
                setStatus(SessionStatus.Failed(msg))
                return CompletableFuture.failedFuture(BridgeClosedException(msg))
            }
            setStatus(SessionStatus.Starting)
            val p = try {
                BridgeProcess.start(binary, options.environment, { options.log(it) }, options.tap)
            } catch (e: Exception) {
                setStatus(SessionStatus.Failed(e.message ?: "cannot start the Pitlane bridge"))
                return CompletableFuture.failedFuture(e)
            }
            process = p
            val c = p.client
            c.addChangeListener { model.apply(it) }
            c.addPortsListener { name, ports -> model.setPorts(name, ports) }
            c.addMessageListener { type, message, show -> if (show) options.show(type, message) else options.log(message) }
            c.closed.thenRun { onClosed(p) }
            val f = c.initialize(options.clientVersion).thenCompose { info ->
                val (enabled, ide) = options.consent()
                c.setConsent(enabled, ide).handle { _, _ -> info } // consent failing must not stop the session
            }.thenApply { info ->
                setStatus(SessionStatus.Ready(info))
                c
            }
            f.exceptionally { e ->
                setStatus(SessionStatus.Failed(unwrapCallError(e).message ?: "the Pitlane bridge did not initialize"))
                null
            }
            ready = f
            // The first list fills the model; later changes arrive as notifications.
            f.thenAccept { refresh() }
            return f
        }
    }

    private fun onClosed(p: BridgeProcess) {
        synchronized(lock) {
            if (process !== p) return
            process = null
            ready = null
        }
        setStatus(SessionStatus.Failed("the Pitlane bridge exited; it starts again on the next action"))
    }

    /** Lists the workspaces again and replaces the model's list. */
    fun refresh(): CompletableFuture<List<Workspace>> {
        model.beginRefresh()
        val f = withClient { it.list() }
        f.whenComplete { list, e -> if (e == null) model.reset(list) else model.abortRefresh() }
        return f
    }

    fun create(params: CreateParams, progress: ProgressListener? = null): CompletableFuture<CreateResult> =
        withClient { it.create(params, progress) }.also { f ->
            val name = params.name
            if (name != null) {
                track(name, f)
            } else {
                unnamed += f
                f.whenComplete { _, _ -> unnamed -= f }
            }
            f.thenAccept { model.put(it.workspace) }
        }

    fun start(name: String, trust: Boolean = false, progress: ProgressListener? = null): CompletableFuture<Workspace> =
        withClient { it.start(name, trust, progress) }.also { f ->
            track(name, f)
            f.thenAccept { model.put(it) }
        }

    /** [create], and when the configuration needs trust, asks [prompt] and creates again with trust. */
    fun createWithTrust(params: CreateParams, prompt: TrustPrompt, progress: ProgressListener? = null): CompletableFuture<CreateResult> =
        Retry.withTrust(prompt) { trust -> create(if (trust) params.copy(trust = true) else params, progress) }

    /** [start], asking [prompt] when the configuration needs trust. */
    fun startWithTrust(name: String, prompt: TrustPrompt, progress: ProgressListener? = null): CompletableFuture<Workspace> =
        Retry.withTrust(prompt) { trust -> start(name, trust, progress) }

    /** [rebuild], asking [prompt] when the configuration needs trust. */
    fun rebuildWithTrust(name: String, prompt: TrustPrompt, progress: ProgressListener? = null): CompletableFuture<Workspace> =
        Retry.withTrust(prompt) { trust -> rebuild(name, trust, progress) }

    /** [delete], and when the clone holds unsaved work, asks [prompt] and deletes again discarding it. */
    fun deleteAsking(name: String, prompt: UnsavedWorkPrompt): CompletableFuture<Unit> =
        Retry.withDiscard(prompt) { discard -> delete(name, discard) }

    /**
     * Cancels the create, start or rebuild of [name] that this session runs
     * (the workspace's "cancel" action); false when there is none. A create
     * sent without a name is found when it is the only such create running.
     */
    fun cancel(name: String): Boolean {
        running[name]?.let { return it.cancel(true) }
        val only = unnamed.toList().singleOrNull() ?: return false
        return only.cancel(true)
    }

    private fun track(name: String, f: CompletableFuture<*>) {
        running[name] = f
        f.whenComplete { _, _ -> running.remove(name, f) }
    }

    fun stop(name: String): CompletableFuture<Workspace> =
        withClient { it.stop(name) }.also { f -> f.thenAccept { model.put(it) } }

    fun rebuild(name: String, trust: Boolean = false, progress: ProgressListener? = null): CompletableFuture<Workspace> =
        withClient { it.rebuild(name, trust, progress) }.also { f ->
            track(name, f)
            f.thenAccept { model.put(it) }
        }

    fun delete(name: String, discardChanges: Boolean = false): CompletableFuture<Unit> =
        withClient { it.delete(name, discardChanges) }.also { f -> f.thenAccept { model.remove(name) } }

    fun open(name: String, ide: String?): CompletableFuture<OpenResult> = withClient { it.open(name, ide) }

    fun logs(name: String, tail: Int? = null): CompletableFuture<LogsResult> = withClient { it.logs(name, tail) }

    /** The log's last [tail] lines, then its new lines to [listener] until [LogFollow.stop]. */
    fun followLogs(name: String, tail: Int? = null, listener: LogListener): CompletableFuture<LogFollow> =
        withClient { it.followLogs(name, tail, listener) }

    /** A workspace's ports, also kept in [model] (and current from then on through workspace/portsChanged). */
    fun ports(name: String): CompletableFuture<List<Port>> =
        withClient { it.ports(name) }.also { f -> f.thenAccept { model.setPorts(name, it) } }

    fun forwardPort(name: String, port: Int, localPort: Int? = null): CompletableFuture<ForwardPortResult> =
        withClient { it.forwardPort(name, port, localPort) }.also { f -> f.thenAccept { model.putPort(name, it.toPort()) } }

    fun stopForwarding(name: String, port: Int): CompletableFuture<Unit> =
        withClient { it.stopForwarding(name, port) }.also { f ->
            f.thenAccept { model.ports(name).firstOrNull { it.port == port }?.let { p -> model.putPort(name, p.copy(forwarded = null)) } }
        }

    /**
     * The providers to offer in the create dialog; empty when the bridge has
     * none to choose from (it does not know provider/list).
     */
    fun providers(): CompletableFuture<List<ProviderInfo>> {
        val out = CompletableFuture<List<ProviderInfo>>()
        withClient { it.providers() }.whenComplete { v, e ->
            when {
                e == null -> out.complete(v)
                (unwrapCallError(e) as? BridgeException)?.code == ErrorCodes.METHOD_NOT_FOUND -> out.complete(emptyList())
                else -> out.completeExceptionally(unwrapCallError(e))
            }
        }
        return out
    }

    fun configs(source: String): CompletableFuture<List<String>> = withClient { it.configs(source) }

    fun detect(source: String): CompletableFuture<DetectResult> = withClient { it.detect(source) }

    /** Sends a changed telemetry setting; does not start the bridge if it is not running. */
    fun sendConsent(enabled: Boolean, ideTelemetryEnabled: Boolean): CompletableFuture<Boolean>? {
        val f = synchronized(lock) { ready } ?: return null
        return f.thenCompose { it.setConsent(enabled, ideTelemetryEnabled) }
    }

    /** Ends the bridge; the next call starts it again. */
    fun restart() {
        synchronized(lock) { stopLocked() }
        setStatus(SessionStatus.Stopped)
    }

    override fun close() = restart()

    private fun stopLocked() {
        val p = process
        process = null
        ready = null
        p?.stop(2000)
    }

    private fun setStatus(s: SessionStatus) {
        status = s
        statusListeners.forEach { runCatching { it(s) } }
    }

    /** Runs [op] on the ready client; cancelling the result cancels [op]'s request. */
    private fun <T> withClient(op: (BridgeClient) -> CompletableFuture<T>): CompletableFuture<T> {
        val out = ChainedFuture<T>()
        client().whenComplete { c, e ->
            if (e != null) {
                out.completeExceptionally(unwrapCallError(e))
                return@whenComplete
            }
            val inner = op(c)
            out.link(inner)
        }
        return out
    }
}

/** A future completed by a future created later; cancelling it cancels that one. */
internal class ChainedFuture<T> : CompletableFuture<T>() {
    @Volatile
    private var inner: CompletableFuture<*>? = null

    /** Makes [f] the future that cancelling this one cancels, without completing this one from it. */
    fun track(f: CompletableFuture<*>) {
        inner = f
        if (isCancelled) f.cancel(true)
    }

    fun link(f: CompletableFuture<T>) {
        track(f)
        f.whenComplete { v, e -> if (e != null) completeExceptionally(unwrapCallError(e)) else complete(v) }
    }

    override fun cancel(mayInterruptIfRunning: Boolean): Boolean {
        inner?.cancel(mayInterruptIfRunning)
        return super.cancel(mayInterruptIfRunning)
    }

    override fun <U> newIncompleteFuture(): CompletableFuture<U> = CompletableFuture()
}
