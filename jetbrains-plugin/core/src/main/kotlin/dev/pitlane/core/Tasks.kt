package dev.pitlane.core

import java.util.concurrent.CancellationException
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit
import java.util.concurrent.TimeoutException

/** Helpers for running bridge calls from an IDE background task. */
object Tasks {
    /**
     * Waits for [future], checking [isCancelled] (the IDE's progress
     * indicator) every [pollMillis]. When the user cancels, the call is
     * cancelled on the bridge and this throws [CancellationException]. A
     * failed call throws its cause ([BridgeException], [BridgeClosedException]).
     */
    fun <T> await(future: CompletableFuture<T>, isCancelled: () -> Boolean, pollMillis: Long = 100): T {
        while (true) {
            if (isCancelled()) {
                future.cancel(true)
                throw CancellationException("cancelled")
            }
            try {
                return future.get(pollMillis, TimeUnit.MILLISECONDS)
            } catch (_: TimeoutException) {
                // poll again
            } catch (e: ExecutionException) {
                throw unwrapCallError(e)
            }
        }
    }

    /**
     * Which IDE to ask workspace/open for: the configured one when the bridge
     * offers it; else the running JetBrains product through Gateway
     * ("jetbrains:GO" in GoLand) when offered; else plain "jetbrains" when the
     * bridge offers any JetBrains product; else null (the bridge's default).
     * [productCode] is the running IDE's product code (IU, IC, GO, PY, ...).
     */
    fun pickIde(configured: String?, offered: List<String>?, productCode: String? = null): String? {
        val ides = offered.orEmpty()
        if (!configured.isNullOrBlank() && (ides.isEmpty() || configured in ides)) return configured
        if (productCode != null) ides.firstOrNull { it.equals("jetbrains:$productCode", ignoreCase = true) }?.let { return it }
        return if (ides.any { it.startsWith("jetbrains", ignoreCase = true) }) "jetbrains" else null
    }
}

/**
 * What a progress indicator shows for a request's progress events: [text]
 * (the operation and its current step) and [detail] (the last line of
 * output).
 */
class ProgressText {
    /** The operation ("Creating api"). */
    var title: String = ""
        private set

    /** The current step ("Building image"). */
    var step: String = ""
        private set

    /** The last line of build or hook output. */
    var detail: String = ""
        private set

    /** 0..1 when the server reports a percentage, else null. */
    var fraction: Double? = null
        private set

    /** Every line of build and hook output so far, for a log view. */
    val output = ArrayList<String>()

    /** "Creating api: Building image", or the title alone before the first step. */
    val text: String get() = if (step.isEmpty()) title else if (title.isEmpty()) step else "$title: $step"

    fun apply(ev: ProgressEvent) {
        when (ev) {
            is ProgressEvent.Begin -> {
                title = ev.title
                step = ev.message.orEmpty()
                fraction = ev.percentage?.let { it / 100.0 }
            }
            is ProgressEvent.Report -> {
                ev.message?.let { step = it }
                ev.prebuilt?.let {
                    val line = it.describe()
                    output += line
                    detail = line
                }
                ev.output?.let {
                    output += it
                    detail = it
                }
                ev.percentage?.let { fraction = it / 100.0 }
            }
            is ProgressEvent.End -> {
                ev.message?.let { step = it }
                detail = ""
                fraction = fraction?.let { 1.0 }
            }
        }
    }
}

/** How the IDE carries out a workspace/open answer. */
sealed class OpenPlan {
    /** Hand a URL to the desktop (a jetbrains-gateway:// link opens JetBrains Gateway). */
    data class Browse(val uri: String) : OpenPlan()

    /** Run a command line (for example `code --folder-uri ...`). */
    data class Run(val argv: List<String>) : OpenPlan()

    /** Nothing to open with; [message] tells the user where to connect by hand. */
    data class Manual(val message: String) : OpenPlan()

    companion object {
        // Schemes the desktop does not route to an application: the IDE's own command does it.
        private val commandFirst = setOf("vscode-remote")

        /**
         * The bridge's URI when the desktop can open it, else its command,
         * else what to connect to by hand.
         */
        fun of(r: OpenResult): OpenPlan {
            val uri = r.uri?.takeIf { it.isNotBlank() }
            val argv = r.command.orEmpty()
            val scheme = uri?.substringBefore(':', "")?.lowercase()
            return when {
                uri != null && (scheme !in commandFirst || argv.isEmpty()) -> Browse(uri)
                argv.isNotEmpty() -> Run(argv)
                else -> Manual("Connect over SSH to ${r.sshHost} and open ${r.folder}.")
            }
        }
    }
}
