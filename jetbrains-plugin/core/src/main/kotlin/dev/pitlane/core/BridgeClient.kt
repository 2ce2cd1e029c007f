package dev.pitlane.core

import com.google.gson.JsonElement
import org.eclipse.lsp4j.jsonrpc.Launcher
import org.eclipse.lsp4j.jsonrpc.MessageConsumer
import org.eclipse.lsp4j.jsonrpc.RemoteEndpoint
import org.eclipse.lsp4j.jsonrpc.messages.Message
import java.io.InputStream
import java.io.OutputStream
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.ThreadFactory
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicLong

/** Receives workspace/didChange notifications. */
fun interface ChangeListener {
    fun onChange(change: DidChangeParams)
}

/** Receives workspace/portsChanged notifications: all of [name]'s ports. */
fun interface PortsListener {
    fun onPorts(name: String, ports: List<Port>)
}

/** Receives the lines appended to a followed log, oldest first. */
fun interface LogListener {
    fun onLines(lines: List<String>)
}

/**
 * A log being followed: [result] holds the lines up to now; later lines go
 * to the listener given to [BridgeClient.followLogs]. [close] ends the
 * follow on the bridge.
 */
class LogFollow internal constructor(
    val result: LogsResult,
    private val unfollow: () -> CompletableFuture<Unit>,
) : AutoCloseable {
    val followId: String get() = result.followId.orEmpty()

    /** Ends the follow; no more lines reach the listener after this returns. */
    fun stop(): CompletableFuture<Unit> = unfollow()

    override fun close() {
        stop()
    }
}

/** Receives window/logMessage and window/showMessage notifications; [show] is true for showMessage. */
fun interface MessageListener {
    fun onMessage(type: Int, message: String, show: Boolean)
}

/** Sees every JSON-RPC message that goes out ([outgoing]) or comes in, for tracing. */
fun interface MessageTap {
    fun onMessage(outgoing: Boolean, message: Message)
}

/**
 * A JSON-RPC client of `pitlane bridge` over a pair of streams (normally the
 * child process's stdout and stdin), with LSP framing done by lsp4j.
 *
 * Every call returns a [CompletableFuture]. It fails with [BridgeException]
 * for an error response and with [BridgeClosedException] when the stream ends
 * first. Cancelling it sends `$/cancelRequest`, after which the server stops
 * the work and cleans up. Listeners and future callbacks run on the client's
 * single reader thread, in the order the messages arrived (so a request's
 * last progress event comes before its result): they must not block.
 */
class BridgeClient private constructor(
    input: InputStream,
    output: OutputStream,
    private val tap: MessageTap?,
) : AutoCloseable {
    private val executor: ExecutorService = Executors.newCachedThreadPool(daemonThreads())
    private val endpoint = Endpoint()
    private val launcher: Launcher<BridgeServer>
    private val changeListeners = CopyOnWriteArrayList<ChangeListener>()
    private val messageListeners = CopyOnWriteArrayList<MessageListener>()
    private val portsListeners = CopyOnWriteArrayList<PortsListener>()
    private val follows = ConcurrentHashMap<String, LogListener>()
    // Lines of follows whose logs answer has not been read yet (the bridge may send them first).
    private val early = LinkedHashMap<String, MutableList<String>>()
    private val progress = ConcurrentHashMap<String, ProgressListener>()
    private val pending = ConcurrentHashMap.newKeySet<CompletableFuture<*>>()
    private val nextToken = AtomicLong()

    /** Completes when the incoming stream ends (the bridge exited or closed its stdout). */
    val closed: CompletableFuture<Unit> = CompletableFuture()

    /** The raw lsp4j proxy: calls without progress handling or error mapping. */
    val server: BridgeServer

    init {
        launcher = Launcher.Builder<BridgeServer>()
            .setLocalService(endpoint)
            .setRemoteInterface(BridgeServer::class.java)
            .setInput(input)
            .setOutput(output)
            .setExecutorService(executor)
            .wrapMessages { consumer -> wrap(consumer) }
            .create()
        server = launcher.remoteProxy
        val listening = launcher.startListening()
        executor.execute {
            val cause = try {
                listening.get()
                null
            } catch (e: Exception) {
                e
            }
            closed.complete(Unit)
            val err = BridgeClosedException("the Pitlane bridge closed the connection; it is restarted on the next action", cause)
            pending.forEach { it.completeExceptionally(err) }
            executor.shutdown()
        }
    }

    private fun wrap(consumer: MessageConsumer): MessageConsumer {
        val t = tap ?: return consumer
        val outgoing = consumer !is RemoteEndpoint
        return MessageConsumer { message ->
            t.onMessage(outgoing, message)
            consumer.consume(message)
        }
    }

    fun addChangeListener(l: ChangeListener): AutoCloseable {
        changeListeners += l
        return AutoCloseable { changeListeners -= l }
    }

    fun addMessageListener(l: MessageListener): AutoCloseable {
        messageListeners += l
        return AutoCloseable { messageListeners -= l }
    }

    fun addPortsListener(l: PortsListener): AutoCloseable {
        portsListeners += l
        return AutoCloseable { portsListeners -= l }
    }

    /** Sends initialize; [clientVersion] is the plugin's version. */
    fun initialize(clientVersion: String? = null): CompletableFuture<InitializeResult> =
        call(server.initialize(InitializeParams(Protocol.VERSION, ClientInfo(Protocol.CLIENT_NAME, clientVersion)))) { it }

    /** Sends shutdown and then (unless [thenExit] is false) the exit notification; the bridge then exits. */
    fun shutdown(thenExit: Boolean = true): CompletableFuture<Unit> = call(server.shutdown()) { if (thenExit) server.exit() }

    /** Sends the exit notification. */
    fun exit() = server.exit()

    /**
     * Sends a request the typed calls do not cover (a newer method, or
     * params as they are). The result is lsp4j's decoding of the answer.
     */
    fun request(method: String, params: JsonElement?): CompletableFuture<Any?> =
        call(launcher.remoteEndpoint.request(method, params)) { it }

    /** Sends a notification the typed calls do not cover. */
    fun notify(method: String, params: JsonElement?) = launcher.remoteEndpoint.notify(method, params)

    /** The workspaces, sorted by name. */
    fun list(): CompletableFuture<List<Workspace>> = call(server.list()) { it.workspaces.orEmpty() }

    /** Creates a workspace and starts it; [progress] receives the steps and build output. */
    fun create(params: CreateParams, progress: ProgressListener? = null): CompletableFuture<CreateResult> =
        withProgress(progress) { token -> server.create(params.copy(workDoneToken = token)) }

    /** Starts a workspace; [trust] says the user accepted what its configuration asks (see [ErrorCodes.TRUST_REQUIRED]). */
    fun start(name: String, trust: Boolean = false, progress: ProgressListener? = null): CompletableFuture<Workspace> =
        withProgress(progress) { token -> server.start(StartParams(name, token, trust.orNull())) }.thenApplyKeepingCancel { it.workspace }

    fun stop(name: String): CompletableFuture<Workspace> = call(server.stop(NameParams(name))) { it.workspace }

    /** Deletes a workspace; without [discardChanges] a clone with unsaved work fails with [ErrorCodes.UNSAVED_WORK]. */
    fun delete(name: String, discardChanges: Boolean = false): CompletableFuture<Unit> =
        call(server.delete(DeleteParams(name, discardChanges.orNull()))) { }

    fun rebuild(name: String, trust: Boolean = false, progress: ProgressListener? = null): CompletableFuture<Workspace> =
        withProgress(progress) { token -> server.rebuild(RebuildParams(name, token, trust.orNull())) }.thenApplyKeepingCancel { it.workspace }

    /** How to open [name] in [ide] (one of [InitializeResult.ides]; null for the server's default). */
    fun open(name: String, ide: String? = null): CompletableFuture<OpenResult> = call(server.open(OpenParams(name, ide))) { it }

    /** The last [tail] lines of a workspace's log (null: the server's default). */
    fun logs(name: String, tail: Int? = null): CompletableFuture<LogsResult> = call(server.logs(LogsParams(name, tail))) { it }

    /**
     * The last [tail] lines of a workspace's log, and then every line
     * appended to it, to [listener], until [LogFollow.stop] (or the end of
     * the bridge). The listener sees no line twice and none out of order.
     */
    fun followLogs(name: String, tail: Int? = null, listener: LogListener): CompletableFuture<LogFollow> =
        call(server.logs(LogsParams(name, tail, follow = true))) { r ->
            // Runs on the reader thread, before any later notification is dispatched.
            val id = r.followId
            if (id.isNullOrEmpty()) throw BridgeException(ErrorCodes.INTERNAL_ERROR, "the Pitlane bridge did not start following the log of $name; update pitlane")
            follows[id] = listener
            synchronized(early) { early.remove(id) }?.let { listener.onLines(it) }
            LogFollow(r) { unfollowLogs(id) }
        }

    /** Ends a follow started by [followLogs]; an unknown id is not an error. */
    fun unfollowLogs(followId: String): CompletableFuture<Unit> {
        follows.remove(followId)
        return call(server.unfollowLogs(UnfollowLogsParams(followId))) { }
    }

    /** A workspace's ports: configured ones and those listening inside, sorted by number. Asking starts the bridge's watch. */
    fun ports(name: String): CompletableFuture<List<Port>> = call(server.ports(NameParams(name))) { it.ports.orEmpty() }

    /**
     * Forwards [port] of a running workspace to 127.0.0.1 for as long as the
     * bridge runs; [localPort] null or 0: the same number if free, else
     * another one ([ForwardPortResult.message] says so).
     */
    fun forwardPort(name: String, port: Int, localPort: Int? = null): CompletableFuture<ForwardPortResult> =
        call(server.forwardPort(ForwardPortParams(name, port, localPort))) { it }

    fun stopForwarding(name: String, port: Int): CompletableFuture<Unit> =
        call(server.stopForwarding(StopForwardingParams(name, port))) { }

    /**
     * The providers workspaces can be created on. Fails with
     * [ErrorCodes.METHOD_NOT_FOUND] from a bridge without providers.
     */
    fun providers(): CompletableFuture<List<ProviderInfo>> = call(server.providerList()) { it.providers.orEmpty() }

    /** The devcontainer.json files of a source, for a picker before create. */
    fun configs(source: String): CompletableFuture<List<String>> = call(server.configs(ConfigsParams(source))) { it.configs.orEmpty() }

    /** What create would use for [source]: its own config or a detected setup ([DetectResult.message] says which). */
    fun detect(source: String, files: Boolean = false): CompletableFuture<DetectResult> = call(server.detect(DetectParams(source, files))) { it }

    /** Passes the plugin's telemetry setting and the IDE's own switch; the result says whether telemetry is on. */
    fun setConsent(enabled: Boolean, ideTelemetryEnabled: Boolean): CompletableFuture<Boolean> =
        call(server.setConsent(SetConsentParams(enabled, ideTelemetryEnabled))) { it.effective }

    /** Stops reading and releases the threads; does not end the bridge process. */
    override fun close() {
        executor.shutdownNow()
    }

    private fun <R> withProgress(listener: ProgressListener?, send: (String?) -> CompletableFuture<R>): CompletableFuture<R> {
        if (listener == null) return call(send(null)) { it }
        val token = "jetbrains-" + nextToken.incrementAndGet()
        progress[token] = listener
        val f = call(send(token)) { it }
        f.whenComplete { _, _ -> progress.remove(token) }
        return f
    }

    /**
     * Maps a raw lsp4j future: errors become [BridgeException], cancelling
     * the returned future cancels the raw one (which sends `$/cancelRequest`),
     * and the end of the stream fails it.
     */
    private fun <S, T> call(src: CompletableFuture<S>, map: (S) -> T): CompletableFuture<T> {
        val out = CancellingFuture<T>(src)
        pending += out
        out.whenComplete { _, _ -> pending -= out }
        if (closed.isDone) out.completeExceptionally(BridgeClosedException("the Pitlane bridge is not running"))
        src.whenComplete { v, e ->
            if (e != null) {
                out.completeExceptionally(unwrapCallError(e))
            } else {
                try {
                    out.complete(map(v))
                } catch (t: Throwable) {
                    out.completeExceptionally(t)
                }
            }
        }
        return out
    }

    private inner class Endpoint : BridgeClientEndpoint {
        override fun didChange(params: DidChangeParams) {
            changeListeners.forEach { it.onChange(params) }
        }

        override fun progress(params: ProgressParams) {
            val key = tokenKey(params.token) ?: return
            val l = progress[key] ?: return
            val event = ProgressEvent.decode(params.value) ?: return
            l.onProgress(event)
        }

        override fun logMessage(params: LogMessageParams) {
            messageListeners.forEach { it.onMessage(params.type, params.message, false) }
        }

        override fun showMessage(params: ShowMessageParams) {
            messageListeners.forEach { it.onMessage(params.type, params.message, true) }
        }

        override fun portsChanged(params: PortsChangedParams) {
            portsListeners.forEach { it.onPorts(params.name, params.ports.orEmpty()) }
        }

        override fun logAppended(params: LogAppendedParams) {
            val lines = params.lines.orEmpty()
            val l = follows[params.followId]
            if (l != null) {
                l.onLines(lines)
                return
            }
            synchronized(early) {
                early.getOrPut(params.followId) { ArrayList() }.addAll(lines)
                // Lines of follows that were stopped are dropped; keep only a few recent ids.
                while (early.size > MAX_EARLY_FOLLOWS) early.remove(early.keys.first())
            }
        }
    }

    companion object {
        /** Connects to a bridge whose output is [input] and whose input is [output], and starts reading. */
        fun connect(input: InputStream, output: OutputStream, tap: MessageTap? = null): BridgeClient =
            BridgeClient(input, output, tap)

        private val threadCount = AtomicInteger()
        private const val MAX_EARLY_FOLLOWS = 16

        private fun daemonThreads() = ThreadFactory { r ->
            Thread(r, "pitlane-bridge-client-" + threadCount.incrementAndGet()).apply { isDaemon = true }
        }
    }
}

/** True as itself, false as null: optional flags are left out of the request. */
private fun Boolean.orNull(): Boolean? = if (this) true else null

/** A future that cancels [upstream] when it is cancelled. */
internal class CancellingFuture<T>(private val upstream: CompletableFuture<*>) : CompletableFuture<T>() {
    override fun cancel(mayInterruptIfRunning: Boolean): Boolean {
        upstream.cancel(mayInterruptIfRunning)
        return super.cancel(mayInterruptIfRunning)
    }

    override fun <U> newIncompleteFuture(): CompletableFuture<U> = CompletableFuture()
}

/** Like [CompletableFuture.thenApply], but cancelling the result cancels this future too. */
fun <S, T> CompletableFuture<S>.thenApplyKeepingCancel(map: (S) -> T): CompletableFuture<T> {
    val out = CancellingFuture<T>(this)
    whenComplete { v, e ->
        if (e != null) out.completeExceptionally(unwrapCallError(e)) else try {
            out.complete(map(v))
        } catch (t: Throwable) {
            out.completeExceptionally(t)
        }
    }
    return out
}
