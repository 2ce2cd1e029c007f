package dev.pitlane.core

import java.util.concurrent.CancellationException
import java.util.concurrent.CompletableFuture

/**
 * Asks the user whether to trust what a configuration asks for; [message]
 * is the bridge's sentence. Completes with true to retry with trust. Called
 * on the client's reader thread: it must not block (show the dialog on the
 * UI thread and complete the future from there).
 */
fun interface TrustPrompt {
    fun ask(request: TrustRequest, message: String): CompletableFuture<Boolean>
}

/** Asks the user whether to delete anyway and lose [work]; like [TrustPrompt]. */
fun interface UnsavedWorkPrompt {
    fun ask(work: UnsavedWork, message: String): CompletableFuture<Boolean>
}

/** The user said no to a trust or unsaved-work question; nothing was done. */
class DeclinedException(message: String) : CancellationException(message)

/**
 * Runs a request once, and when the bridge answers that it needs the user's
 * consent (error 1010 or 1011), asks and sends it again with consent.
 */
object Retry {
    /**
     * Runs [op] without trust; on [ErrorCodes.TRUST_REQUIRED] asks [prompt]
     * and, on yes, runs `op(true)`. On no the result fails with
     * [DeclinedException]. Cancelling the result cancels whichever request
     * is running.
     */
    fun <T> withTrust(prompt: TrustPrompt, op: (trust: Boolean) -> CompletableFuture<T>): CompletableFuture<T> =
        retry(ErrorCodes.TRUST_REQUIRED, { it.trust }, { r, m -> prompt.ask(r, m) }, "not trusted: nothing was run", op)

    /** Like [withTrust] for [ErrorCodes.UNSAVED_WORK]: on yes runs `op(true)`, which discards the changes. */
    fun <T> withDiscard(prompt: UnsavedWorkPrompt, op: (discardChanges: Boolean) -> CompletableFuture<T>): CompletableFuture<T> =
        retry(ErrorCodes.UNSAVED_WORK, { it.unsaved }, { w, m -> prompt.ask(w, m) }, "kept: nothing was deleted", op)

    private fun <T, X : Any> retry(
        code: Int,
        extract: (BridgeException) -> X?,
        ask: (X, String) -> CompletableFuture<Boolean>,
        declined: String,
        op: (Boolean) -> CompletableFuture<T>,
    ): CompletableFuture<T> {
        val out = ChainedFuture<T>()
        val first = op(false)
        out.track(first)
        first.whenComplete { v, e ->
            if (e == null) {
                out.complete(v)
                return@whenComplete
            }
            val err = unwrapCallError(e)
            val be = err as? BridgeException
            val what = be?.takeIf { it.code == code }?.let(extract)
            if (be == null || what == null || out.isDone) {
                out.completeExceptionally(err)
                return@whenComplete
            }
            val answer = try {
                ask(what, be.message.orEmpty())
            } catch (t: Throwable) {
                CompletableFuture.failedFuture(t)
            }
            answer.whenComplete { yes, ae ->
                when {
                    out.isDone -> {}
                    ae != null -> out.completeExceptionally(unwrapCallError(ae))
                    yes != true -> out.completeExceptionally(DeclinedException(declined))
                    else -> out.link(op(true))
                }
            }
        }
        return out
    }
}
