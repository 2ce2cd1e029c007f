package dev.pitlane.core

import com.google.gson.Gson
import com.google.gson.JsonElement
import org.eclipse.lsp4j.jsonrpc.ResponseErrorException
import java.util.concurrent.CancellationException
import java.util.concurrent.CompletionException
import java.util.concurrent.ExecutionException

/**
 * An error response from the bridge. [code] is one of [ErrorCodes]; [message]
 * is a sentence the user can act on, so the IDE shows it as it is.
 */
class BridgeException(
    val code: Int,
    message: String,
    /** The workspace the error is about, when the server names one. */
    val workspace: String? = null,
    /** With [ErrorCodes.TRUST_REQUIRED]: what needs the user's trust. */
    val trust: TrustRequest? = null,
    /** With [ErrorCodes.UNSAVED_WORK]: the work a delete would lose. */
    val unsaved: UnsavedWork? = null,
) : RuntimeException(message) {
    val isCancelled: Boolean get() = code == ErrorCodes.REQUEST_CANCELLED
}

/** The bridge process ended or its stream closed while a request was waiting. */
class BridgeClosedException(message: String, cause: Throwable? = null) : RuntimeException(message, cause)

/**
 * Unwraps what a failed call future holds: a [BridgeException] for an error
 * response, [CancellationException] for a call cancelled here, otherwise the
 * cause itself.
 */
fun unwrapCallError(t: Throwable): Throwable {
    var e = t
    while ((e is CompletionException || e is ExecutionException) && e.cause != null) e = e.cause!!
    if (e is ResponseErrorException) {
        val err = e.responseError
        val data = errorData(err.data)
        return BridgeException(err.code, err.message ?: "the bridge answered with error ${err.code}", data?.workspace, data?.trust, data?.unsaved)
    }
    return e
}

private val gson = Gson()

private fun errorData(data: Any?): ErrorData? = when (data) {
    null -> null
    is JsonElement -> if (data.isJsonObject) runCatching { gson.fromJson(data, ErrorData::class.java) }.getOrNull() else null
    is Map<*, *> -> runCatching { gson.fromJson(gson.toJsonTree(data), ErrorData::class.java) }.getOrNull()
    else -> null
}
