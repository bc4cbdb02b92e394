/** GeoIP: the country and autonomous system of a client address. */
@NullMarked
package dev.portcullis.core.geo;

import org.jspecify.annotations.NullMarked;
