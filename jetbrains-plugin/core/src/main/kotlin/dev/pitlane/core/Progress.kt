package dev.pitlane.core

import com.google.gson.JsonElement
import com.google.gson.JsonObject

/** One `$/progress` value, decoded by its "kind". */
sealed class ProgressEvent {
    /** Opens a progress: [title] names the operation. */
    data class Begin(val title: String, val message: String?, val percentage: Int?, val cancellable: Boolean) : ProgressEvent()

    /**
     * The current step in [message]; [output] is one line of build or hook output, when the report carries one;
     * [prebuilt] is set once when the image comes from Pitlane's image cache instead of being built.
     */
    data class Report(val message: String?, val output: String?, val percentage: Int?, val prebuilt: PrebuiltImage? = null) : ProgressEvent()

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
                "report" -> Report(message, value.string("output"), percentage, PrebuiltImage.decode(value.obj("prebuilt")))
                "end" -> End(message)
                else -> null
            }
        }
    }
}

/** An image a create or rebuild takes from Pitlane's image cache, found by its content [key]. */
data class PrebuiltImage(
    val key: String,
    val image: String,
    val built: String?,
    /** The setup phases baked into the image, which the create does not run again. */
    val baked: List<String>,
    /** The registry repository it was pulled from; null when it was on the engine already. */
    val pulledFrom: String?,
) {
    /** "Prebuilt image found: 3f9a1c2b7d4e (pulled from REPO; already set up: onCreateCommand)". */
    fun describe(): String {
        val notes = listOfNotNull(
            pulledFrom?.let { "pulled from $it" },
            baked.takeIf { it.isNotEmpty() }?.let { "already set up: ${it.joinToString(", ")}" },
        )
        val head = "Prebuilt image found: ${key.take(12)}"
        return if (notes.isEmpty()) head else "$head (${notes.joinToString("; ")})"
    }

    companion object {
        fun decode(o: JsonObject?): PrebuiltImage? {
            val key = o?.string("key") ?: return null
            val baked = o.get("baked")?.takeIf { it.isJsonArray }?.asJsonArray?.mapNotNull { e -> e.takeIf { it.isJsonPrimitive }?.asString }
            return PrebuiltImage(key, o.string("image").orEmpty(), o.string("built"), baked.orEmpty(), o.string("pulledFrom"))
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

private fun JsonObject.obj(name: String): JsonObject? = get(name)?.takeIf { it.isJsonObject }?.asJsonObject
