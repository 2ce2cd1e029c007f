package dev.pitlane.core

import com.google.gson.JsonElement
import com.google.gson.JsonObject

/** One `$/progress` value, decoded by its "kind". */
sealed class ProgressEvent {
    /** Opens a progress: [title] names the operation. */
    data class Begin(val title: String, val message: String?, val percentage: Int?, val cancellable: Boolean) : ProgressEvent()

    /** The current step in [message]; [output] is one line of build or hook output, when the report carries one. */
    data class Report(val message: String?, val output: String?, val percentage: Int?) : ProgressEvent()

    /** Closes a progress; sent before the request's response. */
    data class End(val message: String?) : ProgressEvent()

    companion object {
        /** Decodes a progress value; null when its kind is unknown. */
        fun decode(value: JsonObject?): ProgressEvent? {
            if (value == null) return null
            val message = value.string("message")
            val percentage = value.int("percentage")
            return when (value.string("kind")) {
                "begin" -> Begin(value.string("title") ?: "", message, percentage, value.bool("cancellable") ?: false)
                "report" -> Report(message, value.string("output"), percentage)
                "end" -> End(message)
                else -> null
            }
        }
    }
}

/** Receives the progress of one request. Called on the client's dispatch thread: return quickly. */
fun interface ProgressListener {
    fun onProgress(event: ProgressEvent)
}

/** The text form of a progress token (a string or an integer on the wire). */
internal fun tokenKey(token: JsonElement?): String? = when {
    token == null || token.isJsonNull -> null
    token.isJsonPrimitive -> token.asJsonPrimitive.asString
    else -> token.toString()
}

private fun JsonObject.prim(name: String) = get(name)?.takeIf { it.isJsonPrimitive }?.asJsonPrimitive

private fun JsonObject.string(name: String): String? = prim(name)?.asString

private fun JsonObject.int(name: String): Int? = prim(name)?.takeIf { it.isNumber }?.asInt

private fun JsonObject.bool(name: String): Boolean? = prim(name)?.takeIf { it.isBoolean }?.asBoolean
