/** IP addresses, CIDR sets and client-IP resolution behind trusted proxies (SPEC 3.3). */
@NullMarked
package dev.portcullis.core.net;

import org.jspecify.annotations.NullMarked;
